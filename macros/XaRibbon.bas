Attribute VB_Name = "XaRibbon"
Option Explicit
' Callbacks of the ribbon tab in customUI14.xml. Each one is a single RunPython line into xl_addin.addin,
' where the work is done (see xl_addin/addin.py). Keep this module ASCII only: the Chinese labels live in
' the ribbon XML and the Chinese messages in Python.

Public Sub XaValidate(control As IRibbonControl)
    RunPython "import xl_addin.addin as a; a.validate()"
End Sub

Public Sub XaFillTotals(control As IRibbonControl)
    RunPython "import xl_addin.addin as a; a.fill_totals()"
End Sub

Public Sub XaExportReport(control As IRibbonControl)
    RunPython "import xl_addin.addin as a; a.export_report()"
End Sub

Public Sub XaClearMarks(control As IRibbonControl)
    RunPython "import xl_addin.addin as a; a.clear_marks()"
End Sub

Public Sub XaCollectFolder(control As IRibbonControl)
    RunPython "import xl_addin.addin as a; a.collect_folder()"
End Sub

Public Sub XaAbout(control As IRibbonControl)
    RunPython "import xl_addin.addin as a; a.about()"
End Sub
