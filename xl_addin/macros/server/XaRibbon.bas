Attribute VB_Name = "XaRibbon"
Option Explicit
' The server add-in's ribbon callbacks (built by "xl-addin addin --server URL"): each checks that a workbook is
' open and editable (XaReady), then has XaRemote send it to the county's xl-addin server (xlwings'
' RunRemotePython, to the address and with the Authorization header built into this add-in, module XaBuild).
' The endpoint runs the same function of xl_addin.addin as the local add-in. Nothing to configure on the PC, no
' Python. This is the one module without Option Private Module (Excel calls these callbacks).
' XaSubmit (the submit button) posts the saved workbook to the round's route instead (module XaRound).
' Keep this module ASCII only.

Public Sub XaValidate(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    XaRemote "validate"
End Sub

Public Sub XaFillTotals(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    XaRemote "fill_totals"
End Sub

Public Sub XaExportReport(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    XaRemote "export_report"
End Sub

Public Sub XaClearMarks(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    XaRemote "clear_marks"
End Sub

Public Sub XaAbout(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    XaRemote "about"
End Sub

Public Sub XaSubmit(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    XaSubmitActive
End Sub
