@echo off
rem Installs xl_addin and all its dependencies from this folder, with no network.
rem Usage (as administrator, from the wheelhouse folder):  install.bat [C:\Python311\python.exe]
setlocal
set "PY=%~1"
if "%PY%"=="" set "PY=C:\Python311\python.exe"
if not exist "%PY%" (
  echo Python not found: %PY%  -- install python-3.11 x64 first, or give its path: install.bat C:\path\python.exe
  exit /b 2
)
"%PY%" -m pip install --no-index --find-links "%~dp0." "xl_addin[all]" pywin32
if errorlevel 1 exit /b 1
"%PY%" -m xl_addin --version
"%PY%" -c "import xlwings, xl_addin.addin; print('xlwings', xlwings.__version__)"
echo Done.
