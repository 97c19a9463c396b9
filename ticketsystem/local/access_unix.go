//go:build unix

package local

import "syscall"

// accessWritable reports whether this process may create files in dir,
// without creating one.
func accessWritable(dir string) error {
	const wOK, xOK = 0x2, 0x1
	return syscall.Access(dir, wOK|xOK)
}
