Attribute VB_Name = "XaConfig"
Option Explicit
Option Private Module
' The settings xlwings' VBA reads (interpreter, PYTHONPATH, console, proxy ...). xlam_build replaces the body
' of xlwings' GetConfig with a call to XaGetConfig, so only the PC's own settings count:
'   1. the user's file %USERPROFILE%\.xl_addin\xl_addin.conf -- also found as xl_addin.conf.txt (Windows hides
'      extensions, Notepad adds .txt), read as UTF-8 with or without BOM, UTF-16 (Notepad "Unicode") or ANSI;
'   2. the values built into the add-in (module XaBuild, "xl-addin addin --interpreter ...");
'   3. xlwings' default.
' Never the workbook being checked: no xl_addin.conf sheet in it, no config file in its folder.
' Lines look like "INTERPRETER_WIN","C:\Python311\pythonw.exe" (also accepted: INTERPRETER_WIN=C:\...).
' Keep this module ASCII only.

Public Function XaGetConfig(key As String, Optional default As String = "") As String
    Dim value As String
    If XaConfigFileValue(key, value) Then
        XaGetConfig = ExpandEnvironmentStrings(value)
    ElseIf UCase$(key) = "INTERPRETER_WIN" And Len(XaInterpreter()) > 0 Then
        XaGetConfig = XaInterpreter()
    Else
        XaGetConfig = ExpandEnvironmentStrings(default)
    End If
End Function

Private Function XaConfigFileValue(key As String, value As String) As Boolean
    Dim path As String
    path = Environ("USERPROFILE") & "\." & PROJECT_NAME & "\" & PROJECT_NAME & ".conf"
    If Not FileExists(path) Then path = path & ".txt"
    If Not FileExists(path) Then Exit Function
    XaConfigFileValue = XaConfigValue(XaReadText(path), key, value)
End Function

' The value of key in the text of a config file (first match, key case-insensitive).
Public Function XaConfigValue(text As String, key As String, value As String) As Boolean
    Dim item As Variant, entry As String
    Dim sep As Long, eq As Long
    For Each item In Split(Replace(text, vbCr, ""), vbLf)
        entry = item
        sep = InStr(entry, ",")
        eq = InStr(entry, "=")
        If sep = 0 Or (eq > 0 And eq < sep) Then sep = eq
        If sep > 0 Then
            If UCase$(XaUnquote(Left$(entry, sep - 1))) = UCase$(key) Then
                value = XaUnquote(Mid$(entry, sep + 1))
                XaConfigValue = True
                Exit Function
            End If
        End If
    Next item
End Function

Private Function XaUnquote(ByVal s As String) As String
    s = Trim$(Replace(s, vbTab, " "))
    If Len(s) >= 2 And Left$(s, 1) = """" And Right$(s, 1) = """" Then s = Mid$(s, 2, Len(s) - 2)
    XaUnquote = s
End Function

' A small text file as a string (see XaDecode).
Public Function XaReadText(path As String) As String
    Dim f As Integer, n As Long
    Dim bytes() As Byte
    f = FreeFile
    Open path For Binary Access Read As #f
    n = LOF(f)
    If n > 0 Then
        ReDim bytes(0 To n - 1)
        Get #f, , bytes
    End If
    Close #f
    If n > 0 Then XaReadText = XaDecode(bytes)
End Function

' Bytes (from index 0) as text: UTF-16 LE with BOM, UTF-8 (BOM optional), else the PC's ANSI code page.
Public Function XaDecode(bytes() As Byte) As String
    Dim n As Long, i As Long, k As Long, need As Long, c As Long, cp As Long
    Dim s As String, ok As Boolean
    n = UBound(bytes) + 1
    If n >= 2 Then
        If bytes(0) = &HFF And bytes(1) = &HFE Then
            s = bytes
            XaDecode = Mid$(s, 2)
            Exit Function
        End If
    End If
    If n >= 3 Then
        If bytes(0) = &HEF And bytes(1) = &HBB And bytes(2) = &HBF Then i = 3
    End If
    ok = True
    Do While i < n And ok
        c = bytes(i)
        If c < &H80 Then
            cp = c
            need = 0
        ElseIf (c And &HE0) = &HC0 Then
            cp = c And &H1F
            need = 1
        ElseIf (c And &HF0) = &HE0 Then
            cp = c And &HF
            need = 2
        ElseIf (c And &HF8) = &HF0 Then
            cp = c And &H7
            need = 3
        Else
            ok = False
        End If
        If ok And i + need > n - 1 Then ok = False
        For k = 1 To need
            If ok Then
                If (bytes(i + k) And &HC0) <> &H80 Then ok = False
                cp = cp * 64 + (bytes(i + k) And &H3F)
            End If
        Next k
        If ok Then
            If cp < &H10000 Then
                s = s & ChrW(cp)
            Else
                cp = cp - &H10000
                s = s & ChrW(&HD800& + (cp \ 1024)) & ChrW(&HDC00& + (cp Mod 1024))
            End If
            i = i + need + 1
        End If
    Loop
    If ok Then XaDecode = s Else XaDecode = StrConv(bytes, vbUnicode)
End Function
