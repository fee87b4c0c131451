# N sequential TCP round trips (a connection each) to the uppercase server.
import sys, time
from socket import *
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
start = time.monotonic()
for i in range(n):
    s = socket(AF_INET, SOCK_STREAM)
    s.connect((host, port))
    s.send("hello world".encode())
    reply = s.recv(1024)
    s.close()
print(n / (time.monotonic() - start))
