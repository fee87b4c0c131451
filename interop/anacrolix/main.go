// Command anacrolix is a real BitTorrent peer for netplay's interop tests
// and benchmark: github.com/anacrolix/torrent, locked to loopback, with
// DHT, PEX, port forwarding, uTP, IPv6, webtorrent and webseeds off. It
// lives in its own Go module so the main module does not depend on it.
//
//	anacrolix -torrent f.torrent -dir DIR [-seed] [-peer host:port] [-no-trackers]
//
// It prints "port N" once listening; a leecher prints
// "complete SECONDS BYTES" when it has every piece, and exits unless -seed.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/anacrolix/torrent"
	"github.com/anacrolix/torrent/metainfo"
)

func main() {
	torrentFile := flag.String("torrent", "", ".torrent file")
	dir := flag.String("dir", ".", "folder holding (or receiving) the data")
	seed := flag.Bool("seed", false, "keep seeding after the download (a seeder with the data starts complete)")
	peer := flag.String("peer", "", "a peer to connect to, host:port")
	noTrackers := flag.Bool("no-trackers", false, "do not announce")
	flag.Parse()
	log.SetFlags(0)

	cfg := torrent.NewDefaultClientConfig()
	cfg.NoDHT = true
	cfg.DisablePEX = true
	cfg.NoDefaultPortForwarding = true
	cfg.DisableWebtorrent = true
	cfg.DisableWebseeds = true
	cfg.DisableIPv6 = true
	cfg.DisableUTP = true
	cfg.ListenHost = func(string) string { return "127.0.0.1" }
	cfg.ListenPort = 0
	cfg.DataDir = *dir
	cfg.Seed = *seed
	cfg.DisableTrackers = *noTrackers
	cl, err := torrent.NewClient(cfg)
	if err != nil {
		log.Fatalf("anacrolix: %v", err)
	}
	defer cl.Close()
	mi, err := metainfo.LoadFromFile(*torrentFile)
	if err != nil {
		log.Fatalf("anacrolix: %v", err)
	}
	t, err := cl.AddTorrent(mi)
	if err != nil {
		log.Fatalf("anacrolix: %v", err)
	}
	fmt.Printf("port %d\n", cl.LocalPort())
	<-t.GotInfo()
	if *peer != "" {
		t.AddPeers([]torrent.PeerInfo{{Addr: torrent.StringAddr(*peer), Trusted: true}})
	}
	start := time.Now()
	t.DownloadAll()
	<-t.Complete().On()
	fmt.Printf("complete %.6f %d\n", time.Since(start).Seconds(), t.BytesCompleted())
	if *seed {
		// Seed until our parent closes stdin or kills us.
		buf := make([]byte, 1)
		os.Stdin.Read(buf)
	}
}
