Attribute VB_Name = "XaRibbon"
Option Explicit
' Callbacks of the ribbon tab in customUI14.xml. Each one checks that a workbook is open and editable
' (XaReady), then names the function of xl_addin.addin that does the work (see xl_addin/addin.py); XaRun starts
' Python for it without putting anything of the workbook on a command line. This is the one module without
' Option Private Module (Excel calls these callbacks); they take no text from their caller.
' Keep this module ASCII only: the Chinese labels live in the ribbon XML and the Chinese messages in Python
' (or, for XaReady and XaRun, in the generated module XaBuild).

Public Sub XaValidate(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    XaRunPython "validate"
End Sub

Public Sub XaFillTotals(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    XaRunPython "fill_totals"
End Sub

Public Sub XaExportReport(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    XaRunPython "export_report"
End Sub

Public Sub XaClearMarks(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    XaRunPython "clear_marks"
End Sub

Public Sub XaCollectFolder(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    XaRunPython "collect_folder"
End Sub

Public Sub XaAbout(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    XaRunPython "about"
End Sub
