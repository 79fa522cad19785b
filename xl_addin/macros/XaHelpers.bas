Attribute VB_Name = "XaHelpers"
Option Explicit
Option Private Module
' Small helpers the Python side (xl_addin/addin.py) runs through xlwings' app.macro / the runMacro action,
' so that one call does work whose size depends on the findings. Arguments are strings built by
' xl_addin/adapters/livebook.py; sheets are given by position (wb.Worksheets(i)), never by name. Python calls
' them qualified with this add-in's file name ('file.xlam'!XaHelpers.XaGuard), which the ribbon callbacks
' pass to it (XaHex), so a module of the same name in the checked workbook is never run.
' Keep this module ASCII only: Chinese messages come from the generated module XaBuild (XaText).

Private Const XL_NONE As Long = -4142
' True once XaGuard could not protect a sheet in this click (reset by XaReady, at the start of every click).
' The writing helpers then do nothing: the server route runs them whatever XaGuard returned (its runMacro
' action ignores the result), and writing into a sheet still locked would end in run-time error 1004 after the
' clerk was already told that nothing was written.
Private xaStopped As Boolean

' Re-apply the template's sheet protection with UserInterfaceOnly:=True, so that code (this add-in, and
' xlwings writing through the object model) may change locked cells while the user still cannot.
' UserInterfaceOnly is not saved with the file, hence re-applied on every click.
' sheets: "index:flags,index:flags" (flags: 1 = allow formatting rows, 2 = allow filtering)
' Returns False (after telling the user why) when a sheet cannot be protected, e.g. its password was changed.
Public Function XaGuard(wb As Workbook, password As String, sheets As String, failure As String) As Boolean
    Dim item As Variant
    Dim parts() As String
    Dim flags As Long
    On Error GoTo Failed
    For Each item In Split(sheets, ",")
        If Len(item) > 0 Then
            parts = Split(item, ":")
            flags = CLng(parts(1))
            wb.Worksheets(CLng(parts(0))).Protect Password:=password, DrawingObjects:=True, Contents:=True, _
                Scenarios:=True, UserInterfaceOnly:=True, AllowFormattingRows:=((flags And 1) <> 0), _
                AllowFiltering:=((flags And 2) <> 0)
        End If
    Next item
    XaGuard = True
    Exit Function
Failed:
    xaStopped = True
    MsgBox failure & " (" & Err.Description & ")", vbExclamation, XaText("title")
    XaGuard = False
End Function

' A write that fails all the same (e.g. a sheet protected again in between): one Chinese message, then no
' further write in this click.
Private Sub XaWriteFailed(description As String)
    xaStopped = True
    MsgBox XaText("write_failed") & " (" & description & ")", vbExclamation, XaText("title")
End Sub

' Whether the writes of this click were stopped (XaGuard failed or a write failed).
Public Function XaWritesStopped() As Boolean
    XaWritesStopped = xaStopped
End Function

' Fill colours. spec: "index!A1:B2=RRGGBB;index!C3=" (an empty colour removes the fill)
Public Sub XaPaint(wb As Workbook, spec As String)
    Dim item As Variant
    Dim bang As Long, eq As Long
    Dim hexColor As String
    Dim target As Range
    If xaStopped Then Exit Sub
    On Error GoTo Failed
    For Each item In Split(spec, ";")
        If Len(item) > 0 Then
            bang = InStr(item, "!")
            eq = InStr(item, "=")
            Set target = wb.Worksheets(CLng(Left$(item, bang - 1))).Range(Mid$(item, bang + 1, eq - bang - 1))
            hexColor = Mid$(item, eq + 1)
            If Len(hexColor) = 0 Then
                target.Interior.Pattern = XL_NONE
            Else
                target.Interior.Color = RGB(CLng("&H" & Mid$(hexColor, 1, 2)), _
                    CLng("&H" & Mid$(hexColor, 3, 2)), CLng("&H" & Mid$(hexColor, 5, 2)))
            End If
        End If
    Next item
    Exit Sub
Failed:
    XaWriteFailed Err.Description
End Sub

' Cell contents (formulas or values) of scattered cells. spec: "index!A1|=SUM(B1:C1);index!D4|text"
Public Sub XaWrite(wb As Workbook, spec As String)
    Dim item As Variant
    Dim bang As Long, bar As Long
    If xaStopped Then Exit Sub
    On Error GoTo Failed
    For Each item In Split(spec, ";")
        If Len(item) > 0 Then
            bang = InStr(item, "!")
            bar = InStr(item, "|")
            wb.Worksheets(CLng(Left$(item, bang - 1))).Range(Mid$(item, bang + 1, bar - bang - 1)).Formula = _
                Mid$(item, bar + 1)
        End If
    Next item
    Exit Sub
Failed:
    XaWriteFailed Err.Description
End Sub

' A folder dialog for the collect button (collect_folder); returns the folder chosen, or "" when the user cancels.
Public Function XaPickFolder(wb As Workbook, title As String) As String
    With Application.FileDialog(4) ' msoFileDialogFolderPicker
        .Title = title
        .AllowMultiSelect = False
        If .Show = -1 Then XaPickFolder = .SelectedItems(1) Else XaPickFolder = ""
    End With
End Function

' A file dialog for the roster (.xlsx or .csv); returns the file chosen, or "" when the user cancels.
Public Function XaPickFile(wb As Workbook, title As String) As String
    With Application.FileDialog(3) ' msoFileDialogFilePicker
        .Title = title
        .AllowMultiSelect = False
        .Filters.Clear
        .Filters.Add "Roster", "*.xlsx;*.csv"
        If .Show = -1 Then XaPickFile = .SelectedItems(1) Else XaPickFile = ""
    End With
End Function

' A block of cells from one corner (e.g. the results sheet from A1), set as each cell's Formula, like XaWrite.
' target: "index!A1"; block: cells separated by ChrW(31), rows by ChrW(30) (livebook.rows_text).
Public Sub XaWriteRows(wb As Workbook, target As String, block As String)
    Dim lines() As String, cells() As String
    Dim arr() As Variant
    Dim i As Long, j As Long, n As Long, m As Long, bang As Long
    If xaStopped Then Exit Sub
    On Error GoTo Failed
    lines = Split(block, ChrW(30))
    n = UBound(lines) + 1
    If n < 1 Then Exit Sub
    m = 1
    For i = 0 To n - 1
        cells = Split(lines(i), ChrW(31))
        If UBound(cells) + 1 > m Then m = UBound(cells) + 1
    Next i
    ReDim arr(1 To n, 1 To m)
    For i = 0 To n - 1
        cells = Split(lines(i), ChrW(31))
        For j = 0 To UBound(cells)
            arr(i + 1, j + 1) = cells(j)
        Next j
    Next i
    bang = InStr(target, "!")
    wb.Worksheets(CLng(Left$(target, bang - 1))).Range(Mid$(target, bang + 1)).Resize(n, m).Formula = arr
    Exit Sub
Failed:
    XaWriteFailed Err.Description
End Sub

' Server add-in: opens a download page of the county server (path from the server, e.g. "/xl_addin/files/..."),
' always under the server address built into this add-in, never any other address.
Public Sub XaFollow(wb As Workbook, path As String)
    If Len(XA_SERVER_URL) = 0 Or Left$(path, 1) <> "/" Or InStr(path, "//") > 0 Or InStr(path, "@") > 0 Then Exit Sub
    ThisWorkbook.FollowHyperlink XA_SERVER_URL & path
End Sub

' Before any button runs: a workbook must be open and editable (not in Protected View); the local add-in also
' needs the Python interpreter (an absolute path that exists). Otherwise one Chinese message and False.
Public Function XaReady(needsPython As Boolean) As Boolean
    Dim pv As Object
    Dim interpreter As String
    xaStopped = False
    On Error Resume Next
    Set pv = Application.ActiveProtectedViewWindow
    On Error GoTo 0
    If Not pv Is Nothing Then
        MsgBox XaText("protected_view"), vbExclamation, XaText("title")
        Exit Function
    End If
    If ActiveWorkbook Is Nothing Then
        MsgBox XaText("no_book"), vbExclamation, XaText("title")
        Exit Function
    End If
    If needsPython Then
        interpreter = GetConfig("INTERPRETER_WIN", "")
        If Not XaIsInterpreter(interpreter) Then
            MsgBox XaText("no_python") & vbCrLf & interpreter, vbExclamation, XaText("title")
            Exit Function
        End If
    End If
    XaReady = True
End Function

' The local add-in's Python: an absolute path (drive or \\server\share) to a file that exists.
Public Function XaIsInterpreter(interpreter As String) As Boolean
    If interpreter Like "[A-Za-z]:\*" Or Left$(interpreter, 2) = "\\" Then XaIsInterpreter = FileExists(interpreter)
End Function

' A string as 4 hex digits per UTF-16 code unit: the add-in's and the workbook's names cross XaRun's command line and
' the server URL as plain ASCII (decoded by xl_addin.adapters.livebook.addin_name).
Public Function XaHex(s As String) As String
    Dim i As Long, c As Long
    For i = 1 To Len(s)
        c = AscW(Mid$(s, i, 1))
        If c < 0 Then c = c + 65536
        XaHex = XaHex & Right$("000" & Hex$(c), 4)
    Next i
End Function
