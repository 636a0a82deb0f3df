//! File-system primitives of the output layer: atomic file writes (temporary sibling +
//! rename), an atomic directory swap, an advisory lock, and a test hook that makes the N-th
//! file write fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Environment variable of the fault-injection hook: `ELECTSIM_FAIL_WRITE_AT=N` makes the
/// N-th file write of this process (1-based) fail with an injected I/O error naming the
/// file. Used by `tests/output_faults.rs` to prove that a failed write never leaves a mix of
/// old and new results; unset, it costs one counter increment per file.
pub const FAIL_WRITE_ENV: &str = "ELECTSIM_FAIL_WRITE_AT";

static WRITES: AtomicU64 = AtomicU64::new(0);

/// Environment variable of the kill hook: `ELECTSIM_KILL_AT=NAME` makes the process kill
/// itself with SIGKILL when it reaches the point `NAME` of the output layer (`swapped`: just
/// after a results directory was swapped, before the old one is cleaned; `installing`: after
/// the first file of a [`crate::outputs::FileSet`] was moved into place). Used by
/// `tests/data_safety.rs` to put a `kill -9` exactly where a random one rarely lands.
pub const KILL_AT_ENV: &str = "ELECTSIM_KILL_AT";

/// Die here, as by `kill -9`, if [`KILL_AT_ENV`] names this point.
pub fn kill_point(name: &str) {
    if std::env::var(KILL_AT_ENV).is_ok_and(|v| v == name) {
        // SAFETY: signalling our own process.
        unsafe {
            libc::kill(libc::getpid(), libc::SIGKILL);
        }
    }
}

/// Count one file write and fail it if [`FAIL_WRITE_ENV`] says so. Every writer of result
/// files calls this before creating its file.
pub fn write_hook(path: &Path) -> std::io::Result<()> {
    let n = WRITES.fetch_add(1, Ordering::Relaxed) + 1;
    match std::env::var(FAIL_WRITE_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        Some(at) if at == n => Err(std::io::Error::other(format!(
            "injected failure of write #{n} ({FAIL_WRITE_ENV}) to {}",
            path.display()
        ))),
        _ => Ok(()),
    }
}

/// Write `bytes` to `path` atomically (temporary sibling, then rename). A symlink is
/// written through: its target is replaced, the link stays. A FIFO or character device
/// (`/dev/stdout`, `/dev/null`) is written to directly, never replaced; any other
/// non-regular file (a directory, a block device, a socket) is refused.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// [`write_atomic`] for output produced piece by piece: `fill` streams into a buffered
/// writer, so a large trace is never held in memory as one string. The file appears at
/// `path` only if `fill` and the final flush succeed.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    write_hook(path)?;
    if let Some(fd) = crate::outputs::stream_fd(path) {
        return write_fd(fd, fill);
    }
    match std::fs::metadata(path) {
        Ok(m) if is_stream(&m) => {
            let f = std::fs::OpenOptions::new().write(true).open(path)?;
            let mut w = std::io::BufWriter::new(f);
            fill(&mut w)?;
            w.flush()
        }
        Ok(m) if !m.is_file() => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            not_regular(path),
        )),
        Ok(_) if is_symlink(path) => replace_file(&path.canonicalize()?, fill),
        Ok(_) => replace_file(path, fill),
        // Missing, or a dangling symlink: create the file it names.
        Err(_) => replace_file(&follow_links(path)?, fill),
    }
}

/// Write into an inherited descriptor (a duplicate of it, so closing ours leaves the
/// caller's open), at its offset and with its flags: `>> log` stays an append.
fn write_fd(
    fd: i32,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::os::fd::FromRawFd;
    if fd == 1 {
        std::io::stdout().flush()?;
    }
    // SAFETY: dup of a descriptor number; the result is checked before use and owned by
    // the File, which closes it.
    let dup = unsafe { libc::dup(fd) };
    if dup < 0 {
        return Err(std::io::Error::last_os_error());
    }
    let f = unsafe { std::fs::File::from_raw_fd(dup) };
    let mut w = std::io::BufWriter::new(f);
    fill(&mut w)?;
    w.flush()
}

/// The absolute path a new file at `path` will have: symlinks in its last component
/// followed and its directory resolved, so two spellings of one new file compare equal.
pub fn resolved_new(path: &Path) -> std::io::Result<PathBuf> {
    let target = follow_links(path)?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.canonicalize()?,
        _ => std::env::current_dir()?,
    };
    Ok(dir.join(target.file_name().unwrap_or_default()))
}

fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// A FIFO or a character device: written through, never replaced.
fn is_stream(m: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = m.file_type();
        t.is_fifo() || t.is_char_device()
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        false
    }
}

fn not_regular(path: &Path) -> String {
    format!(
        "`{}` exists and is not a regular file (a directory, block device or socket); electsim writes only regular files, FIFOs and character devices; choose a file path",
        path.display()
    )
}

/// `path` with every symlink in its last component followed (also a dangling one).
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let to = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) => dir.join(to),
                    None => to,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other(format!(
        "`{}`: too many levels of symbolic links",
        path.display()
    )))
}

/// Check a file path given on the command line before any work: its directory must exist
/// and it must not be something electsim cannot write (see [`write_atomic`]).
pub fn check_output_path(path: &Path, flag: &str) -> Result<(), String> {
    if crate::outputs::stream_fd(path).is_some() {
        return Ok(());
    }
    if let Ok(m) = std::fs::metadata(path) {
        return if m.is_file() || is_stream(&m) {
            Ok(())
        } else {
            Err(format!("{flag}: {}", not_regular(path)))
        };
    }
    let target = follow_links(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(format!(
            "{flag} {}: the directory `{}` does not exist; create it first",
            path.display(),
            dir.display()
        ));
    }
    Ok(())
}

fn replace_file(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let tmp = temp_path(path);
    let result = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        fill(&mut w)?;
        let f = w.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// `dir/.name.tmp` next to the target.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Atomically exchange two existing directory entries (Linux `renameat2(RENAME_EXCHANGE)`):
/// a reader sees either the old or the new entry at each path, never neither.
/// Fails with `Unsupported` where the OS or file system cannot do it.
pub fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let ca = CString::new(a.as_os_str().as_bytes())?;
        let cb = CString::new(b.as_os_str().as_bytes())?;
        // SAFETY: both are valid NUL-terminated paths; AT_FDCWD resolves them relative to
        // the working directory like every other std::fs call.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                ca.as_ptr(),
                libc::AT_FDCWD,
                cb.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EXDEV) => Err(
                std::io::Error::new(std::io::ErrorKind::Unsupported, e.to_string()),
            ),
            _ => Err(e),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (a, b);
        Err(std::io::Error::new(
            std::io::ErrorKind::Unsupported,
            "atomic exchange needs Linux",
        ))
    }
}

/// Try to take an exclusive advisory lock on `f` without waiting (`flock`): `Ok(false)` when
/// another process holds it. The OS drops the lock when the holder exits, also on `kill -9`,
/// so a stale lock file never blocks.
pub fn try_lock(f: &std::fs::File) -> std::io::Result<bool> {
    flock_nb(f, true)
}

/// Probe whether anyone holds an exclusive lock on `f`: take a shared lock without waiting
/// and drop it at once. `Ok(false)` while an exclusive holder exists.
pub fn try_lock_shared(f: &std::fs::File) -> std::io::Result<bool> {
    let got = flock_nb(f, false)?;
    if got {
        #[cfg(unix)]
        {
            use std::os::fd::AsRawFd;
            // SAFETY: a valid, open file descriptor.
            unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_UN) };
        }
    }
    Ok(got)
}

fn flock_nb(f: &std::fs::File, exclusive: bool) -> std::io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let op = if exclusive {
            libc::LOCK_EX
        } else {
            libc::LOCK_SH
        };
        // SAFETY: a valid, open file descriptor.
        let rc = unsafe { libc::flock(f.as_raw_fd(), op | libc::LOCK_NB) };
        if rc == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::EWOULDBLOCK) {
            Ok(false)
        } else {
            Err(e)
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (f, exclusive);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("electsim-fsutil-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_stream_that_fails_halfway_leaves_the_old_file_and_no_temporary() {
        let dir = scratch("halfway");
        let path = dir.join("trace.json");
        std::fs::write(&path, "old").unwrap();
        // More than the writer's buffer, so part of it has reached the temporary file.
        let err = write_atomic_with(&path, |w| {
            w.write_all(&vec![b'x'; 1 << 20])?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert!(!temp_path(&path).exists());
        write_atomic_with(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
