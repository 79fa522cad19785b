Attribute VB_Name = "XaHelpers"
Option Explicit
' Small helpers the Python side (xl_addin/addin.py) runs through xlwings' app.macro / the runMacro action,
' so that one call does work whose size depends on the findings. Arguments are ASCII strings built by
' xl_addin/adapters/livebook.py; sheets are given by position (wb.Worksheets(i)), never by name.
' Keep this module ASCII only.

Private Const XL_NONE As Long = -4142

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
    MsgBox failure & " (" & Err.Description & ")", vbExclamation
    XaGuard = False
End Function

' Fill colours. spec: "index!A1:B2=RRGGBB;index!C3=" (an empty colour removes the fill)
Public Sub XaPaint(wb As Workbook, spec As String)
    Dim item As Variant
    Dim bang As Long, eq As Long
    Dim hexColor As String
    Dim target As Range
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
End Sub

' Cell contents (formulas or values) of scattered cells. spec: "index!A1|=SUM(B1:C1);index!D4|text"
Public Sub XaWrite(wb As Workbook, spec As String)
    Dim item As Variant
    Dim bang As Long, bar As Long
    For Each item In Split(spec, ";")
        If Len(item) > 0 Then
            bang = InStr(item, "!")
            bar = InStr(item, "|")
            wb.Worksheets(CLng(Left$(item, bang - 1))).Range(Mid$(item, bang + 1, bar - bang - 1)).Formula = _
                Mid$(item, bar + 1)
        End If
    Next item
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
