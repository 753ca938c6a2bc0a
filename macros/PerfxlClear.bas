Attribute VB_Name = "PerfxlClear"
' The ClearMarks button: gives every cell Validate or Score coloured its former fill back
' and empties the results sheet, leaving a note in its A1.
Option Explicit

Public Sub ClearMarks()
    Dim res As Worksheet
    On Error GoTo Failure
    Set res = FindSheet(Msg("result_sheet"))
    If Not res Is Nothing Then
        UndoMarks res
        res.Cells(1, 1).Value = Msg("cleared")
    End If
    Tell Msg("cleared")
    Exit Sub
Failure:
    Tell Replace(Msg("macro_error"), "{err}", Err.Description)
End Sub
