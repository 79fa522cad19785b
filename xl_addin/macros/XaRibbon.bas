Attribute VB_Name = "XaRibbon"
Option Explicit
' Callbacks of the ribbon tab in customUI14.xml. Each one checks that a workbook is open and editable
' (XaReady), then is a single RunPython line into xl_addin.addin, where the work is done (see
' xl_addin/addin.py). The add-in's own file name goes along (XaHex) so that Python runs the helper macros
' qualified with it. Keep this module ASCII only: the Chinese labels live in the ribbon XML and the Chinese
' messages in Python (or, for XaReady, in the generated module XaBuild).

Public Sub XaValidate(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    RunPython "import xl_addin.addin as a; a.validate(addin='" & XaHex(ThisWorkbook.Name) & "')"
End Sub

Public Sub XaFillTotals(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    RunPython "import xl_addin.addin as a; a.fill_totals(addin='" & XaHex(ThisWorkbook.Name) & "')"
End Sub

Public Sub XaExportReport(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    RunPython "import xl_addin.addin as a; a.export_report(addin='" & XaHex(ThisWorkbook.Name) & "')"
End Sub

Public Sub XaClearMarks(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    RunPython "import xl_addin.addin as a; a.clear_marks(addin='" & XaHex(ThisWorkbook.Name) & "')"
End Sub

Public Sub XaCollectFolder(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    RunPython "import xl_addin.addin as a; a.collect_folder(addin='" & XaHex(ThisWorkbook.Name) & "')"
End Sub

Public Sub XaAbout(control As IRibbonControl)
    If Not XaReady(True) Then Exit Sub
    RunPython "import xl_addin.addin as a; a.about(addin='" & XaHex(ThisWorkbook.Name) & "')"
End Sub
