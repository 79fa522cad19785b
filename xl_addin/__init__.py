"""xl_addin: prepare, check and publish the annual report on government information disclosure
(《政府信息公开工作年度报告》, 国办公开办函〔2021〕30号) from a locked Excel template."""

__version__ = "0.1.0"
