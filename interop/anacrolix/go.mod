module github.com/netplay-dev/netplay/interop/anacrolix

go 1.26.8
