Attribute VB_Name = "XaRemote"
Option Explicit
Option Private Module
' One click of the server add-in: xlwings' RunRemotePython to this add-in's own server, with every failure the
' network or the server can give told in Chinese instead of an English VBA error box:
'   - no answer at all: server down or unreachable, timeout, connection reset (a restart), certificate refused
'     (WinHttp errors; VBA-Web's WebClient turns timeout / cannot connect / name not resolved into status 408
'     and raises the others as error 11011 with the WinHttp number in its text);
'   - an answer other than 200 (Remote.RunServerPython calls XaHttpMessage, see xlam_build.REMOTE_PATCHES):
'     401 token, 413 too large, 429 too many clicks, 503 busy, 5xx; the server's own Chinese text when it sent one.
' Keep this module ASCII only: the Chinese texts come from the generated module XaBuild (XaText).

' The endpoints of the server (xl_addin/server.py BUTTONS) a button may post to.
Private Const XA_ENDPOINTS As String = "|validate|fill_totals|export_report|clear_marks|about|"

Public Sub XaRemote(action As String)
    If Len(action) = 0 Or InStr(action, "|") > 0 Or InStr(XA_ENDPOINTS, "|" & action & "|") = 0 Then Exit Sub
    On Error GoTo Failed
    RunRemotePython XA_SERVER_URL & "/xl_addin/" & action & "?addin=" & XaHex(ThisWorkbook.Name), headers:=XaHeaders()
    Exit Sub
Failed:
    MsgBox XaErrorMessage(Err.Number, Err.Description), vbExclamation, XaText("title")
End Sub

' The county's token; and, for a workbook distributed for this server with an agency key (XaRound), the key,
' so that the answer also says where the agency's report stands in the round.
Private Function XaHeaders() As Dictionary
    Dim d As New Dictionary
    Dim key As String
    d.Add "Authorization", XA_AUTH
    key = XaKeyForButtons(ActiveWorkbook)
    If Len(key) > 0 Then d.Add XA_KEY_HEADER, key
    Set XaHeaders = d
End Function

' The message for an answer other than 200: the server's own text when it is a short plain Chinese text (the
' xl-addin server answers 401, 413, 429 and 503 so), else one per status.
Public Function XaHttpMessage(ByVal status As Long, ByVal content As String) As String
    Dim text As String
    Select Case status
    Case 401, 403
        text = XaText("http_401")
    Case 408
        text = XaText("net_timeout")
    Case 413
        text = XaText("http_413")
    Case 429
        text = XaText("http_429")
    Case 503
        text = XaText("http_503")
    Case Else
        text = XaText("http_other") & " " & CStr(status)
    End Select
    If XaIsServerText(content) And status <> 408 Then text = content
    XaHttpMessage = text & vbCrLf & vbCrLf & XaText("server_is") & XA_SERVER_URL
End Function

' An error raised while the click ran: WinHttp's (through VBA-Web's WebClient.Execute, which keeps the
' WinHttp number in its text as "(80072f8f)") or one in a step that followed.
Public Function XaErrorMessage(ByVal number As Long, ByVal description As String) As String
    Dim code As Long, text As String
    code = XaWinHttpCode(description)
    Select Case code
    Case 12002, 12007, 12029
        text = XaText("net_timeout")
    Case 12030, 12031, 12152, 12017
        text = XaText("net_reset")
    Case 12037, 12038, 12044, 12045, 12057, 12169, 12175, 12179
        text = XaText("net_certificate")
    Case 0
        text = XaText("run_failed")
    Case Else
        text = XaText("net_other")
    End Select
    If code <> 0 Then
        text = text & vbCrLf & vbCrLf & XaText("server_is") & XA_SERVER_URL & " (WinHttp " & CStr(code) & ")"
    Else
        text = text & vbCrLf & vbCrLf & "(" & CStr(number) & ": " & description & ")"
    End If
    XaErrorMessage = text
End Function

' The WinHttp error number (12001..12186) in an error text of VBA-Web ("... (80072efd): ..."), else 0.
Public Function XaWinHttpCode(ByVal description As String) As Long
    Dim pos As Long, digits As String
    pos = InStr(LCase$(description), "(80072")
    If pos = 0 Then Exit Function
    digits = Mid$(description, pos + 5, 4)
    If Len(digits) <> 4 Or digits Like "*[!0-9A-Fa-f]*" Then Exit Function
    XaWinHttpCode = CLng("&H" & digits)
    If XaWinHttpCode < 12001 Or XaWinHttpCode > 12186 Then XaWinHttpCode = 0
End Function

' A short one-line-ish text with Chinese in it: what the xl-addin server answers, not an HTML or JSON page.
Private Function XaIsServerText(ByVal content As String) As Boolean
    Dim i As Long
    If Len(content) = 0 Or Len(content) > 300 Then Exit Function
    If Left$(LTrim$(content), 1) = "<" Or Left$(LTrim$(content), 1) = "{" Then Exit Function
    For i = 1 To Len(content)
        If AscW(Mid$(content, i, 1)) < 0 Or AscW(Mid$(content, i, 1)) > &H2E7F Then
            XaIsServerText = True
            Exit Function
        End If
    Next i
End Function
