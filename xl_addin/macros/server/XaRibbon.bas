Attribute VB_Name = "XaRibbon"
Option Explicit
' The server add-in's ribbon callbacks (built by "xl-addin addin --server URL"): each checks that a workbook is
' open and editable (XaReady), then sends it to the county's xl-addin server with xlwings' RunRemotePython, to
' the address and with the Authorization header built into this add-in (module XaBuild). The endpoint runs the
' same function of xl_addin.addin as the local add-in's RunPython. Nothing to configure on the PC, no Python.
' Keep this module ASCII only.

Public Sub XaValidate(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    RunRemotePython XA_SERVER_URL & "/xl_addin/validate?addin=" & XaHex(ThisWorkbook.Name), headers:=XaHeaders()
End Sub

Public Sub XaFillTotals(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    RunRemotePython XA_SERVER_URL & "/xl_addin/fill_totals?addin=" & XaHex(ThisWorkbook.Name), headers:=XaHeaders()
End Sub

Public Sub XaExportReport(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    RunRemotePython XA_SERVER_URL & "/xl_addin/export_report?addin=" & XaHex(ThisWorkbook.Name), headers:=XaHeaders()
End Sub

Public Sub XaClearMarks(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    RunRemotePython XA_SERVER_URL & "/xl_addin/clear_marks?addin=" & XaHex(ThisWorkbook.Name), headers:=XaHeaders()
End Sub

Public Sub XaAbout(control As IRibbonControl)
    If Not XaReady(False) Then Exit Sub
    RunRemotePython XA_SERVER_URL & "/xl_addin/about?addin=" & XaHex(ThisWorkbook.Name), headers:=XaHeaders()
End Sub

Private Function XaHeaders() As Dictionary
    Dim d As New Dictionary
    d.Add "Authorization", XA_AUTH
    Set XaHeaders = d
End Function
