//go:build !unix

package local

// accessWritable cannot test without writing on this platform; Open will
// report a directory that is not writable.
func accessWritable(dir string) error { return nil }
