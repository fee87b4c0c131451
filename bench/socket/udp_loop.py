# N sequential UDP round trips to the uppercase server; prints the rate.
import sys, time
from socket import *
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket(AF_INET, SOCK_DGRAM)
start = time.monotonic()
for i in range(n):
    s.sendto("hello world".encode(), (host, port))
    reply, addr = s.recvfrom(2048)
print(n / (time.monotonic() - start))
