Attribute VB_Name = "XaRound"
Option Explicit
Option Private Module
' The server add-in's submit button: the active workbook's saved file, as it is on disk, posted to the round's
' route POST <XA_SERVER_URL>/round/api/submit (xl_addin/round_routes.py) with the agency's key from the
' workbook's custom document property xl_addin_key (written by "xl-addin distribute --server URL"), exactly
' the request "xl-addin submit FILE" makes; the answer is shown in Chinese.
'
' Where the key goes: only to the server built into this add-in (XA_SERVER_URL). The workbook's property
' xl_addin_server is only compared with it: a workbook is untrusted, and an address taken from it would send
' the agency's key wherever the workbook says. A workbook distributed for another server is refused unsent.
' Nothing of the workbook reaches a command line: the file is read with ADODB.Stream and sent with WinHttp.
' Keep this module ASCII only: the Chinese texts come from the generated module XaBuild (XaText).

Private Const XA_PROP_SERVER As String = "xl_addin_server"
Private Const XA_PROP_KEY As String = "xl_addin_key"
Private Const XA_XLSX_TYPE As String = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Private Const XA_SUBMIT_PATH As String = "/round/api/submit"
' The header that lets the buttons' answers say where the agency's report stands (xl_addin/server.py)
Public Const XA_KEY_HEADER As String = "X-Xl-Addin-Key"
' The longest answer shown (the server's findings text is well under it)
Private Const XA_MAX_SHOWN As Long = 3000

' The submit button: the active workbook, once ready (XaRibbon checks XaReady first).
Public Sub XaSubmitActive()
    XaSubmitBook ActiveWorkbook
End Sub

Public Sub XaSubmitBook(wb As Object)
    Dim key As String, url As String, answer As String
    Dim data() As Byte
    Dim status As Long
    Dim http As Object
    key = XaAgencyKey(wb)
    If Len(key) = 0 Then
        MsgBox XaText("submit_not_distributed"), vbExclamation, XaText("title")
        Exit Sub
    End If
    If Not XaSameServer(XaDocProperty(wb, XA_PROP_SERVER)) Then
        MsgBox XaText("submit_other_server") & vbCrLf & vbCrLf & XaText("submit_book_server") & _
            XaDocProperty(wb, XA_PROP_SERVER) & vbCrLf & XaText("server_is") & XA_SERVER_URL, _
            vbExclamation, XaText("title")
        Exit Sub
    End If
    If Not XaIsSaved(wb) Then Exit Sub
    If Not XaReadFile(CStr(wb.FullName), data) Then
        MsgBox XaText("submit_unreadable") & vbCrLf & CStr(wb.FullName), vbExclamation, XaText("title")
        Exit Sub
    End If
    url = XA_SERVER_URL & XA_SUBMIT_PATH & "?filename=" & XaUrlEncode(CStr(wb.Name))
    On Error GoTo NetFailed
    Set http = CreateObject("WinHttp.WinHttpRequest.5.1")
    http.Open "POST", url, False
    http.SetTimeouts 10000, 10000, 60000, 120000
    http.SetRequestHeader "Authorization", "Bearer " & key
    http.SetRequestHeader "Content-Type", XA_XLSX_TYPE
    http.SetRequestHeader "Accept", "text/plain"
    http.Send data
    status = http.Status
    answer = XaUtf8(http.ResponseBody)
    On Error GoTo 0
    If status = 200 Or status = 201 Then
        MsgBox XaText("submit_done") & vbCrLf & vbCrLf & XaShown(answer), vbInformation, XaText("title")
    Else
        MsgBox XaSubmitRefused(status, answer), vbExclamation, XaText("title")
    End If
    Exit Sub
NetFailed:
    ' WinHttp's errors carry its HRESULT (&H80072EFD: cannot connect ...): told as XaRemote tells them
    MsgBox XaErrorMessage(Err.Number, "(" & Hex$(Err.Number) & "): " & Err.Description), vbExclamation, _
        XaText("title")
End Sub

' The message for a submission the server did not keep: its own Chinese text (the findings with 422), else one
' per status (XaRemote.XaHttpMessage).
Public Function XaSubmitRefused(ByVal status As Long, ByVal answer As String) As String
    Dim text As String
    If XaHasChinese(answer) And Left$(LTrim$(answer), 1) <> "<" Then
        text = XaText("submit_refused") & vbCrLf & vbCrLf & XaShown(answer)
        If status = 422 Then text = text & vbCrLf & vbCrLf & XaText("submit_see_validate")
        XaSubmitRefused = text & vbCrLf & vbCrLf & XaText("server_is") & XA_SERVER_URL
    Else
        XaSubmitRefused = XaHttpMessage(status, "")
    End If
End Function

' The agency's key in the workbook, when it is one a header can carry (printable ASCII, no blank), else "".
Public Function XaAgencyKey(wb As Object) As String
    Dim key As String, i As Long, c As Long
    key = Trim$(XaDocProperty(wb, XA_PROP_KEY))
    If Len(key) = 0 Or Len(key) > 200 Then Exit Function
    For i = 1 To Len(key)
        c = XaUnit(key, i)
        If c < 33 Or c > 126 Then Exit Function
    Next i
    XaAgencyKey = key
End Function

' The key for the buttons' header: only for a workbook distributed for this add-in's server, else "".
Public Function XaKeyForButtons(wb As Object) As String
    Dim key As String
    key = XaAgencyKey(wb)
    If Len(key) > 0 And XaSameServer(XaDocProperty(wb, XA_PROP_SERVER)) Then XaKeyForButtons = key
End Function

' A custom document property's text, "" when the workbook has none of that name.
Public Function XaDocProperty(wb As Object, ByVal name As String) As String
    Dim value As Variant
    On Error GoTo Absent
    value = wb.CustomDocumentProperties(name).Value
    If VarType(value) = vbString Then XaDocProperty = value
Absent:
End Function

' Whether the workbook's server property names this add-in's server (or is absent: the key then goes nowhere
' but to the built-in server all the same). Compared without case and trailing slashes.
Public Function XaSameServer(ByVal bookServer As String) As Boolean
    Dim a As String, b As String
    a = LCase$(Trim$(bookServer))
    b = LCase$(XA_SERVER_URL)
    Do While Right$(a, 1) = "/"
        a = Left$(a, Len(a) - 1)
    Loop
    Do While Right$(b, 1) = "/"
        b = Left$(b, Len(b) - 1)
    Loop
    XaSameServer = (Len(b) > 0 And (Len(a) = 0 Or a = b))
End Function

' The workbook saved to a file on this PC: never saved -> told to save it; unsaved changes -> asked, then saved.
Private Function XaIsSaved(wb As Object) As Boolean
    If Len(CStr(wb.Path)) = 0 Then
        MsgBox XaText("submit_never_saved"), vbExclamation, XaText("title")
        Exit Function
    End If
    If Not wb.Saved Then
        If MsgBox(XaText("submit_save_first"), vbOKCancel + vbQuestion, XaText("title")) <> vbOK Then Exit Function
        On Error GoTo SaveFailed
        wb.Save
        On Error GoTo 0
        If Not wb.Saved Then Exit Function
    End If
    XaIsSaved = True
    Exit Function
SaveFailed:
    MsgBox XaText("submit_save_failed") & " (" & Err.Description & ")", vbExclamation, XaText("title")
End Function

' The file's bytes (ADODB.Stream: any file name, no shell). False when it cannot be read or is empty.
Private Function XaReadFile(ByVal path As String, data() As Byte) As Boolean
    Dim stream As Object
    On Error GoTo Failed
    Set stream = CreateObject("ADODB.Stream")
    stream.Type = 1
    stream.Open
    stream.LoadFromFile path
    If stream.Size = 0 Then GoTo Failed
    data = stream.Read
    stream.Close
    XaReadFile = True
    Exit Function
Failed:
    XaReadFile = False
End Function

' UTF-8 bytes (an answer's body) as text.
Private Function XaUtf8(body As Variant) As String
    Dim stream As Object
    On Error GoTo Failed
    If IsEmpty(body) Then Exit Function
    Set stream = CreateObject("ADODB.Stream")
    stream.Type = 1
    stream.Open
    stream.Write body
    stream.Position = 0
    stream.Type = 2
    stream.Charset = "utf-8"
    XaUtf8 = stream.ReadText
    stream.Close
Failed:
End Function

' A workbook's name as a URL query value: UTF-8, every byte but letters, digits and -._~ as %XX.
Public Function XaUrlEncode(ByVal text As String) As String
    Dim i As Long, c As Long, out As String
    For i = 1 To Len(text)
        c = XaUnit(text, i)
        If c >= 55296 And c <= 56319 And i < Len(text) Then
            c = &H10000 + (c - 55296) * &H400& + (XaUnit(text, i + 1) - 56320)
            i = i + 1
        End If
        If (c >= 48 And c <= 57) Or (c >= 65 And c <= 90) Or (c >= 97 And c <= 122) Or c = 45 Or c = 46 Or _
                c = 95 Or c = 126 Then
            out = out & ChrW(c)
        ElseIf c < &H80& Then
            out = out & XaPct(c)
        ElseIf c < &H800& Then
            out = out & XaPct(&HC0& Or (c \ &H40&)) & XaPct(&H80& Or (c And &H3F&))
        ElseIf c < &H10000 Then
            out = out & XaPct(&HE0& Or (c \ &H1000&)) & XaPct(&H80& Or ((c \ &H40&) And &H3F&)) & _
                XaPct(&H80& Or (c And &H3F&))
        Else
            out = out & XaPct(&HF0& Or (c \ &H40000)) & XaPct(&H80& Or ((c \ &H1000&) And &H3F&)) & _
                XaPct(&H80& Or ((c \ &H40&) And &H3F&)) & XaPct(&H80& Or (c And &H3F&))
        End If
    Next i
    XaUrlEncode = out
End Function

' The UTF-16 code unit at i, 0..65535 (AscW answers a negative Integer from &H8000).
Private Function XaUnit(ByVal text As String, ByVal i As Long) As Long
    Dim c As Long
    c = AscW(Mid$(text, i, 1))
    If c < 0 Then c = c + 65536
    XaUnit = c
End Function

Private Function XaPct(ByVal b As Long) As String
    XaPct = "%" & Right$("0" & Hex$(b), 2)
End Function

' Whether the text holds a CJK character (U+2E80..U+9FFF): the server's own Chinese text, not a proxy's page.
Private Function XaHasChinese(ByVal text As String) As Boolean
    Dim i As Long, c As Long
    For i = 1 To Len(text)
        c = XaUnit(text, i)
        If c >= 11904 And c <= 40959 Then
            XaHasChinese = True
            Exit Function
        End If
    Next i
End Function

Private Function XaShown(ByVal text As String) As String
    text = Trim$(text)
    If Len(text) > XA_MAX_SHOWN Then text = Left$(text, XA_MAX_SHOWN) & " ..."
    XaShown = text
End Function
