package http

import (
	"fmt"
	"io/fs"
	"mime"
	nethttp "net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// Static serves files, from a folder or from memory, with Last-Modified
// and ETag so that conditional requests get 304.
type Static struct {
	root  *os.Root            // a folder, or
	files map[string]*memFile // files in memory by path
}

type memFile struct {
	body    []byte
	modTime time.Time
}

// StaticDir serves the files under dir.
func StaticDir(dir string) (*Static, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &Static{root: root}, nil
}

// StaticRoot serves the files under root (opened by the script's file
// sandbox, so nothing outside it is reachable).
func StaticRoot(root *os.Root) *Static { return &Static{root: root} }

// StaticFiles serves the given contents by path, modified at modTime.
func StaticFiles(files map[string][]byte, modTime time.Time) *Static {
	s := &Static{files: map[string]*memFile{}}
	for p, b := range files {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		s.files[p] = &memFile{b, modTime.Truncate(time.Second)}
	}
	return s
}

// Set replaces (or adds) an in-memory file, modified at modTime.
func (s *Static) Set(p string, body []byte, modTime time.Time) {
	if s.files == nil {
		return
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	s.files[p] = &memFile{body, modTime.Truncate(time.Second)}
}

// Close releases the folder.
func (s *Static) Close() {
	if s.root != nil {
		s.root.Close()
	}
}

// Serve answers a GET or HEAD for urlPath, or returns nil when there is no
// such file.
func (s *Static) Serve(method, urlPath string) *Reply {
	if method != "GET" && method != "HEAD" {
		return nil
	}
	p := path.Clean("/" + urlPath)
	body, mod, ok := s.lookup(p)
	if !ok {
		return nil
	}
	if strings.HasSuffix(p, "/") {
		p += "index.html"
	}
	ctype := mime.TypeByExtension(path.Ext(p))
	if ctype == "" {
		ctype = nethttp.DetectContentType(body)
	}
	mod = mod.UTC().Truncate(time.Second)
	return &Reply{Status: 200, Body: body, Header: Header{
		{"Content-Type", ctype},
		{"Last-Modified", mod.Format(nethttp.TimeFormat)},
		{"ETag", fmt.Sprintf("\"%x-%x\"", len(body), mod.Unix())},
	}}
}

func (s *Static) lookup(p string) ([]byte, time.Time, bool) {
	if s.files != nil {
		f, ok := s.files[p]
		if !ok && (p == "/" || strings.HasSuffix(p, "/")) {
			f, ok = s.files[p+"index.html"]
			if !ok && p == "/" {
				f, ok = s.files["/index.html"]
			}
		}
		if !ok {
			return nil, time.Time{}, false
		}
		return f.body, f.modTime, true
	}
	name := strings.TrimPrefix(p, "/")
	if name == "" {
		name = "."
	}
	fi, err := s.root.Stat(name)
	if err == nil && fi.IsDir() {
		name = filepath.Join(name, "index.html")
		fi, err = s.root.Stat(name)
	}
	if err != nil || !fi.Mode().IsRegular() {
		return nil, time.Time{}, false
	}
	body, err := fs.ReadFile(s.root.FS(), filepath.ToSlash(name))
	if err != nil {
		return nil, time.Time{}, false
	}
	return body, fi.ModTime(), true
}
