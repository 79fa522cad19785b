"""Reading published reports (web page, PDF, Word, text) back into :class:`~xl_addin.model.ReportData`.

Pure: :mod:`.document` is what an adapter hands over (lines, table rows as cells, page metadata); :mod:`.parse`
turns it into values by key, the source text of every value, and what was uncertain. The adapters that read
files live in :mod:`xl_addin.adapters.report_reader`.
"""
