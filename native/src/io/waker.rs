//! Blocking waits that `stop()` can interrupt: every data-plane thread polls
//! its file descriptor together with one shared eventfd. Once woken, the
//! eventfd stays readable, so every thread sees the stop at once.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

pub struct Waker {
    fd: OwnedFd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    Readable,
    Woken,
    TimedOut,
}

impl Waker {
    pub fn new() -> io::Result<Self> {
        // SAFETY: eventfd has no memory preconditions; the result is checked.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(Waker {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    pub fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writes 8 bytes from a live u64 to our own eventfd. A full
        // counter (EAGAIN) still leaves it readable, which is all we need.
        unsafe { libc::write(self.fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
    }

    /// Waits until `fd` is readable, the waker fires, or `timeout` passes.
    pub fn wait(&self, fd: RawFd, timeout: Duration) -> io::Result<Wait> {
        let mut fds = [
            libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            },
        ];
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: fds is a live array of two pollfd structs.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted {
                Ok(Wait::TimedOut)
            } else {
                Err(e)
            };
        }
        if fds[1].revents != 0 {
            Ok(Wait::Woken)
        } else if fds[0].revents != 0 {
            Ok(Wait::Readable)
        } else {
            Ok(Wait::TimedOut)
        }
    }

    /// Sleeps up to `timeout` unless woken; true when woken.
    pub fn sleep(&self, timeout: Duration) -> bool {
        let mut fds = [libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let ms = timeout.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: fds is a live array of one pollfd struct.
        unsafe { libc::poll(fds.as_mut_ptr(), 1, ms) > 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixDatagram;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn wake_interrupts_a_wait_and_stays_set() {
        let waker = Arc::new(Waker::new().unwrap());
        let (a, _b) = UnixDatagram::pair().unwrap();
        let w = waker.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            w.wake();
        });
        let start = Instant::now();
        assert_eq!(
            waker.wait(a.as_raw_fd(), Duration::from_secs(10)).unwrap(),
            Wait::Woken
        );
        assert!(start.elapsed() < Duration::from_secs(5));
        t.join().unwrap();
        assert!(
            waker.sleep(Duration::from_secs(10)),
            "still set for the next thread"
        );
    }

    #[test]
    fn reports_readable_and_timeout() {
        let waker = Waker::new().unwrap();
        let (a, b) = UnixDatagram::pair().unwrap();
        assert_eq!(
            waker
                .wait(a.as_raw_fd(), Duration::from_millis(10))
                .unwrap(),
            Wait::TimedOut
        );
        b.send(b"x").unwrap();
        assert_eq!(
            waker
                .wait(a.as_raw_fd(), Duration::from_millis(10))
                .unwrap(),
            Wait::Readable
        );
    }
}
