Attribute VB_Name = "PerfxlScore"
' The Score button: runs perfxl in Python through the xlwings add-in. Application.Run
' calls the add-in's RunPython by name, so the workbook needs no VBA reference to it.
' When the add-in, Python or perfxl is missing the user gets the install message from
' pf_messages instead of a VBA error: Python writes the problem count into the results
' sheet last, and a blank count after the call means it did not run through (Windows;
' on a Mac RunPython returns before Python ends, so only a missing add-in is caught).
Option Explicit

Private Const COMMAND As String = "import perfxl.excel; perfxl.excel.score_button()"

Public Sub Score()
    Dim res As Worksheet, ran As Boolean
    On Error GoTo Failure
    Set res = ResultSheet()
    res.Range(MARKER).ClearContents
    ran = RunPerfxl()
    If ran And IsMac() Then Exit Sub
    Set res = ResultSheet()
    If Not ran Or IsEmpty(res.Range(MARKER).Value) Then
        res.Cells(1, 1).Value = Msg("score_missing")
        Tell Msg("score_missing")
    End If
    Exit Sub
Failure:
    Tell Replace(Msg("macro_error"), "{err}", Err.Description)
End Sub

Private Function RunPerfxl() As Boolean
    On Error GoTo Missing
    Application.Run "'xlwings.xlam'!RunPython", COMMAND
    RunPerfxl = True
Missing:
End Function

Private Function IsMac() As Boolean
    On Error Resume Next
    IsMac = InStr(1, Application.OperatingSystem, "Mac", vbTextCompare) > 0
End Function
