Attribute VB_Name = "PerfxlCommon"
' Shared helpers of the perfxl buttons (Validate, Score, ClearMarks).
' Every text shown to the user is read from the workbook's pf_messages table
' (column 1 key, column 2 text), so these sources stay ASCII.
' The results sheet: A1 summary, row 2 headers, problems from row 3; hidden columns
' J:K record each coloured cell and its former fill; J1 gets the problem count last.
Option Explicit

Public Const NO_FILL As Long = -4142
Public Const MARK_COLOR As Long = 10079487
Public Const FIRST_ROW As Long = 3
Public Const MARK_COL As Long = 10
Public Const MARKER As String = "J1"

' The workbook holding these macros. A workbook re-saved by LibreOffice loses the code
' names that bind ThisWorkbook; the active workbook (the one whose button was clicked)
' stands in then.
Public Function TheBook() As Workbook
    Dim n As Long
    On Error Resume Next
    n = ThisWorkbook.Worksheets.Count
    If Err.Number = 0 Then
        Set TheBook = ThisWorkbook
    Else
        Err.Clear
        Set TheBook = ActiveWorkbook
    End If
End Function

' The text of a pf_messages key; the key itself when the table or the key is missing.
Public Function Msg(ByVal key As String) As String
    Dim table As Range, r As Long
    Msg = key
    On Error GoTo Done
    Set table = TheBook().Names("pf_messages").RefersToRange
    For r = 1 To table.Rows.Count
        If CStr(table.Cells(r, 1).Value) = key Then
            Msg = CStr(table.Cells(r, 2).Value)
            Exit Function
        End If
    Next r
Done:
End Function

Public Sub Tell(ByVal text As String)
    MsgBox text, vbOKOnly, "perfxl"
End Sub

Public Function FindSheet(ByVal name As String) As Worksheet
    On Error Resume Next
    Set FindSheet = TheBook().Worksheets(name)
End Function

' The results sheet (the templates carry it), created after the audit sheet when missing.
Public Function ResultSheet() As Worksheet
    Dim res As Worksheet, audit As Worksheet, names As String
    Set res = FindSheet(Msg("result_sheet"))
    If res Is Nothing Then
        For Each res In TheBook().Worksheets
            names = names & "|" & res.Name & "|"
        Next res
        Set audit = FindSheet(Msg("audit_sheet"))
        If audit Is Nothing Then
            Set res = TheBook().Worksheets.Add
        Else
            Set res = TheBook().Worksheets.Add(After:=audit)
        End If
        ' never rename an existing sheet (some hosts return the wrong sheet from Add)
        If InStr(names, "|" & res.Name & "|") > 0 Then Err.Raise 1004, , Msg("result_sheet")
        res.Name = Msg("result_sheet")
    End If
    Set ResultSheet = res
End Function

' The cell a "sheet!A1" place names, or Nothing.
Public Function PlaceCell(ByVal place As String) As Range
    Dim p As Long
    p = InStrRev(place, "!")
    If p < 2 Then Exit Function
    On Error Resume Next
    Set PlaceCell = TheBook().Worksheets(Left$(place, p - 1)).Range(Mid$(place, p + 1))
End Function

' Set a cell's fill (NO_FILL clears it); the template's sheets are protected without a
' password, formatting of rows and columns allowed, and are protected the same way again.
Public Sub SetFill(ByVal cell As Range, ByVal color As Long)
    Dim ws As Worksheet, locked As Boolean
    Set ws = cell.Worksheet
    locked = ws.ProtectContents
    If locked Then ws.Unprotect
    If color = NO_FILL Then
        cell.Interior.ColorIndex = NO_FILL
    Else
        cell.Interior.Color = color
    End If
    If locked Then ws.Protect "", True, True, True, False, False, True, True
End Sub

' Colour a problem's cell, recording its former fill on row `r` of the results sheet.
Public Sub MarkCell(ByVal res As Worksheet, ByVal r As Long, ByVal cell As Range)
    res.Cells(r, MARK_COL).Value = cell.Worksheet.Name & "!" & cell.Address(False, False)
    If cell.Interior.ColorIndex = NO_FILL Then
        res.Cells(r, MARK_COL + 1).Value = NO_FILL
    Else
        res.Cells(r, MARK_COL + 1).Value = cell.Interior.Color
    End If
    SetFill cell, MARK_COLOR
End Sub

' Give the marked cells their former fills back (last first) and empty the results sheet.
Public Sub UndoMarks(ByVal res As Worksheet)
    Dim r As Long, last As Long, cell As Range
    last = FIRST_ROW
    Do While Not IsEmpty(res.Cells(last, 1).Value)
        last = last + 1
    Loop
    For r = last - 1 To FIRST_ROW Step -1
        Set cell = PlaceCell(CStr(res.Cells(r, MARK_COL).Value))
        If Not cell Is Nothing Then SetFill cell, CLng(res.Cells(r, MARK_COL + 1).Value)
    Next r
    res.Cells.Clear
End Sub

' Row 2 of the results sheet; the record columns hidden.
Public Sub WriteHeaders(ByVal res As Worksheet)
    Dim keys As Variant, i As Long
    keys = Array("head_no", "head_code", "head_level", "head_message", "head_place")
    For i = 0 To 4
        res.Cells(FIRST_ROW - 1, i + 1).Value = Msg(CStr(keys(i)))
    Next i
    res.Columns(MARK_COL).Hidden = True
    res.Columns(MARK_COL + 1).Hidden = True
End Sub

' One problem on row `r`: the place links to its cell, which is coloured.
Public Sub ListProblem(ByVal res As Worksheet, ByVal r As Long, ByVal code As String, _
                       ByVal level As String, ByVal text As String, ByVal place As String)
    Dim cell As Range, link As String
    res.Cells(r, 1).Value = r - FIRST_ROW + 1
    res.Cells(r, 2).Value = code
    res.Cells(r, 3).Value = level
    res.Cells(r, 4).Value = text
    Set cell = PlaceCell(place)
    If cell Is Nothing Then
        res.Cells(r, 5).Value = place
        Exit Sub
    End If
    link = "#'" & Replace(cell.Worksheet.Name, "'", "''") & "'!" & cell.Address(False, False)
    res.Cells(r, 5).Formula = "=HYPERLINK(""" & Replace(link, """", """""") & """,""" & _
                              Replace(place, """", """""") & """)"
    MarkCell res, r, cell
End Sub
