Attribute VB_Name = "XaRun"
Option Explicit
Option Private Module
' The local add-in's only way to start Python. It replaces xlwings' RunPython / ExecuteWindows, which the build
' removes from the add-in (adapters/xlam_build.py): those put the checked workbook's name into a cmd.exe command
' between quotes (a file named like  a^&calc .xlsx  ran a program) and its full path into sys.path (a folder
' named like  x;;;y;  put the sender's folder ahead of the installed packages).
' Here nothing that comes from the workbook reaches cmd.exe as text: the workbook's name crosses as hex digits
' (XaHex, decoded by xl_addin.adapters.livebook.caller_args), its path and sheet names not at all, and Python
' gets no sys.path entry from this command. The rest of the command is fixed text, the PC's own interpreter and
' temp folder, and Excel's window number. Only the buttons' own functions can be run, whoever calls this.
' Keep this module ASCII only: Chinese messages come from the generated module XaBuild (XaText).

' The functions of xl_addin.addin a button may run (one per ribbon button).
Private Const XA_ACTIONS As String = "|validate|fill_totals|export_report|clear_marks|collect_folder|about|"
' cmd.exe takes at most 8191 characters; a longer command is refused with a message, never cut.
Public Const XA_MAX_COMMAND As Long = 8000

Public Sub XaRunPython(action As String)
    Dim interpreter As String, logFile As String, cmdLine As String
    Dim style As Long, code As Long
    If Not XaIsAction(action) Then Exit Sub
    interpreter = GetConfig("INTERPRETER_WIN", "")
    If Not XaIsInterpreter(interpreter) Then
        MsgBox XaText("no_python") & vbCrLf & interpreter, vbExclamation, XaText("title")
        Exit Sub
    End If
    logFile = Environ("TEMP") & "\xl_addin-" & CreateGUID() & ".log"
    cmdLine = XaCommand(interpreter, action, ThisWorkbook.Name, ActiveWorkbook.Name, CStr(Application.Hwnd), logFile)
    If Len(cmdLine) = 0 Then
        MsgBox XaText("name_too_long"), vbExclamation, XaText("title")
        Exit Sub
    End If
    If UCase$(GetConfig("SHOW CONSOLE", "False")) = "TRUE" Then style = 1 Else style = 0
    code = WScript.Run(cmdLine, style, True)
    If code <> 0 Then
        MsgBox XaText("python_failed") & vbCrLf & vbCrLf & Left$(XaLogText(logFile), 1500), vbCritical, XaText("title")
    End If
    On Error Resume Next
    Kill logFile
End Sub

Public Function XaIsAction(action As String) As Boolean
    XaIsAction = Len(action) > 0 And InStr(action, "|") = 0 And InStr(XA_ACTIONS, "|" & action & "|") > 0
End Function

' The command line (cmd.exe) that runs one button's function: "" when the action is not a button's or the
' command would be too long. interpreter and logFile are the PC's; addinName and bookName may be anything and
' appear only as hex digits; hwnd must be a whole number (Application.Hwnd).
Public Function XaCommand(interpreter As String, action As String, addinName As String, bookName As String, _
                          hwnd As String, logFile As String) As String
    Dim folder As String, drive As String, cmdLine As String, digits As String
    If Not XaIsAction(action) Then Exit Function
    digits = hwnd
    If Left$(digits, 1) = "-" Then digits = Mid$(digits, 2) ' a window number above 2^31 reads as a negative Long
    If Len(digits) = 0 Or digits Like "*[!0-9]*" Then Exit Function
    If Not (interpreter Like "[A-Za-z]:\?*" Or interpreter Like "\\?*\?*") Then Exit Function
    If InStr(interpreter, """") > 0 Or InStr(logFile, """") > 0 Then Exit Function
    folder = Left$(interpreter, InStrRev(interpreter, "\") - 1)
    If Left$(interpreter, 2) = "\\" Then
        drive = "pushd """ & folder & """ & "
    Else
        drive = Left$(interpreter, 2) & " & cd """ & folder & """ & "
    End If
    cmdLine = "cmd.exe /C " & drive & """" & interpreter & """ -B -c ""import xl_addin.addin as a; a." & action _
        & "(addin='" & XaHex(addinName) & "')"" --xa-book=" & XaHex(bookName) & " --hwnd=" & hwnd _
        & " 2> """ & logFile & """"
    If Len(cmdLine) <= XA_MAX_COMMAND Then XaCommand = cmdLine
End Function

Private Function XaLogText(logFile As String) As String
    On Error Resume Next
    XaLogText = XaReadText(logFile)
End Function
