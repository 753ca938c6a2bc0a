Attribute VB_Name = "PerfxlValidate"
' The Validate button: recalculates, lists every check of the live audit sheet that did
' not pass on the results sheet, colours the cells they point at and says how many
' problems remain. Pure VBA: needs no Python.
Option Explicit

Public Sub Validate()
    Dim audit As Worksheet, res As Worksheet, head As Long, r As Long, n As Long
    Dim errors As Long, col As Variant, result As String, passed As String, failed As String
    Dim summary As String, explained As String
    On Error GoTo Failure
    Recalculate
    Set audit = FindSheet(Msg("audit_sheet"))
    If Not audit Is Nothing Then head = HeaderRow(audit)
    If head = 0 Then
        Tell Msg("no_audit")
        Exit Sub
    End If
    col = Array(HeaderColumn(audit, head, "head_code"), HeaderColumn(audit, head, "head_level"), _
                HeaderColumn(audit, head, "head_result"), HeaderColumn(audit, head, "head_message"), _
                HeaderColumn(audit, head, "head_place"))
    If col(2) = 0 Or col(4) = 0 Then
        Tell Msg("no_audit")
        Exit Sub
    End If
    Set res = ResultSheet()
    UndoMarks res
    WriteHeaders res
    passed = Msg("word_pass")
    explained = Msg("word_explained")
    failed = Msg("word_error")
    r = head + 1
    Do While Not IsEmpty(audit.Cells(r, 1).Value)
        result = CStr(audit.Cells(r, col(2)).Value)
        If result <> "" And result <> passed And result <> explained Then
            n = n + 1
            If result = failed Then errors = errors + 1
            ListProblem res, FIRST_ROW + n - 1, CellText(audit, r, col(0)), CellText(audit, r, col(1)), _
                        CellText(audit, r, col(3)), CellText(audit, r, col(4))
        End If
        r = r + 1
    Loop
    If n = 0 Then
        summary = Msg("validate_pass")
    Else
        summary = Replace(Replace(Replace(Msg("validate_problems"), "{n}", CStr(n)), _
                  "{errors}", CStr(errors)), "{warnings}", CStr(n - errors))
    End If
    res.Cells(1, 1).Value = summary
    res.Range(MARKER).Value = n
    If n > 0 Then res.Activate
    Tell summary
    Exit Sub
Failure:
    Tell Replace(Msg("macro_error"), "{err}", Err.Description)
End Sub

' Application.CalculateFull where the host has it (Excel), else Calculate.
Private Sub Recalculate()
    On Error Resume Next
    Application.CalculateFull
    If Err.Number <> 0 Then
        Err.Clear
        Application.Calculate
    End If
End Sub

' The row of the audit sheet's headers: the one starting with the sequence header.
Private Function HeaderRow(ByVal ws As Worksheet) As Long
    Dim r As Long, key As String
    key = Msg("head_no")
    For r = 1 To 30
        If CStr(ws.Cells(r, 1).Value) = key Then
            HeaderRow = r
            Exit Function
        End If
    Next r
End Function

Private Function HeaderColumn(ByVal ws As Worksheet, ByVal head As Long, ByVal key As String) As Long
    Dim c As Long, text As String
    text = Msg(key)
    For c = 1 To 30
        If CStr(ws.Cells(head, c).Value) = text Then
            HeaderColumn = c
            Exit Function
        End If
    Next c
End Function

Private Function CellText(ByVal ws As Worksheet, ByVal r As Long, ByVal c As Long) As String
    If c > 0 Then CellText = CStr(ws.Cells(r, c).Value)
End Function
