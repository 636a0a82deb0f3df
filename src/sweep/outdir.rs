//! Safe output directories: how `sweep`, `merge` and `matrix` replace a results directory
//! without ever losing or mixing data.
//!
//! For an output directory `P/NAME`:
//!
//! * **Lock.** `P/.NAME.electsim-lock` is locked (`flock`) for the whole command and holds
//!   the owner's pid. A second electsim writing the same directory is refused at once; the OS
//!   drops the lock when its holder dies (also on `kill -9`), so a stale lock file never blocks.
//! * **Ownership.** Before anything is written, the directory must be empty, missing, or hold
//!   results of the same sweep (its `sweep.json` matches). Results of another sweep, or
//!   `runs.csv` / `summary.csv` / `charts/` without a `sweep.json` (someone else's files), are
//!   only replaced with `--force`.
//! * **Staging.** New results (and the journal of a running sweep) are built in
//!   `P/.NAME.electsim-new/`. Only when they are complete is that directory swapped with
//!   `P/NAME` in one atomic `renameat2(RENAME_EXCHANGE)`, so a reader or a crash sees the old
//!   complete results or the new complete results, never a mix; stale charts of a previous
//!   sweep go away with the old directory.
//! * **Nothing foreign is deleted.** Cleaning a replaced or abandoned directory deletes only
//!   the names electsim writes ([`OWNED`]); every other entry (a user's notes, shard
//!   directories) is moved back into `P/NAME` (as `X.kept` if `X` is taken).

use super::SweepError;
use super::manifest::Manifest;
use super::output::{JOURNAL, MANIFEST, RUNS_CSV, SUMMARY_CSV, io_err};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The entries of a results directory that electsim writes (and may delete when it
/// replaces the directory). `charts/` counts only for its `.png` / `.svg` files.
pub const OWNED: &[&str] = &[
    RUNS_CSV,
    SUMMARY_CSV,
    super::elections::ELECTIONS_CSV,
    MANIFEST,
    JOURNAL,
    CHARTS,
    crate::report::production::AGREEMENT_MD,
];
const CHARTS: &str = "charts";

/// What kind of directory an [`OutDir`] is, which decides what electsim owns in it.
#[derive(Clone, Debug)]
enum Kind {
    /// A sweep's results: [`OWNED`].
    Results,
    /// A `charts/` directory: `.png` and `.svg` files.
    Charts,
    /// The matrix's results: `MATRIX.md` and these results directories.
    Matrix(Vec<String>),
}

const MATRIX_MD: &str = "MATRIX.md";

/// What an output directory may already hold for a command to replace it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replace {
    /// Only results of the same sweep (the default).
    SameSweep,
    /// Results of any electsim sweep (`matrix`, which owns its results directory).
    AnySweep,
    /// Anything (`--force`).
    Anything,
}

/// A locked output directory with its staging directory.
#[derive(Debug)]
pub struct OutDir {
    /// As given (for messages).
    shown: PathBuf,
    /// Resolved (symlinks followed), the path every operation uses.
    real: PathBuf,
    stage: PathBuf,
    old: PathBuf,
    lock_path: PathBuf,
    committed: bool,
    kind: Kind,
    _lock: File,
}

/// `P/.NAME.<suffix>` for the output directory `P/NAME`, with `dir` resolved as
/// [`OutDir::lock`] does.
pub fn sibling(dir: &Path, suffix: &str) -> Result<PathBuf, SweepError> {
    let real = resolve(dir)?;
    let (parent, name) = split(&real, dir)?;
    Ok(parent.join(format!(".{name}.{suffix}")))
}

/// The staging directory of output directory `dir` (where a running sweep keeps its
/// journal, `runs.partial.csv`, and manifest).
pub fn stage_path(dir: &Path) -> Result<PathBuf, SweepError> {
    sibling(dir, "electsim-new")
}

fn resolve(dir: &Path) -> Result<PathBuf, SweepError> {
    if std::fs::symlink_metadata(dir).is_ok() {
        dir.canonicalize().map_err(io_err(dir))
    } else {
        std::path::absolute(dir).map_err(io_err(dir))
    }
}

fn split<'a>(real: &'a Path, shown: &Path) -> Result<(&'a Path, String), SweepError> {
    match (real.parent(), real.file_name()) {
        (Some(p), Some(n)) => Ok((p, n.to_string_lossy().into_owned())),
        _ => Err(SweepError::Usage(format!(
            "`{}` cannot be an output directory (it has no parent); choose a named directory with --out",
            shown.display()
        ))),
    }
}

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

impl OutDir {
    /// Lock `dir` for this process and finish or undo whatever an interrupted command left.
    /// Creates `dir`'s parent if needed; `dir` itself is created only by [`OutDir::commit`].
    pub fn lock(dir: &Path) -> Result<OutDir, SweepError> {
        Self::lock_kind(dir, Kind::Results)
    }

    /// [`OutDir::lock`] for a `charts/` directory of its own (`electsim chart DIR`).
    pub fn lock_charts(dir: &Path) -> Result<OutDir, SweepError> {
        Self::lock_kind(dir, Kind::Charts)
    }

    /// [`OutDir::lock`] for the results directory of `electsim matrix`, which owns
    /// `MATRIX.md` and the results directories `names`.
    pub fn lock_matrix(dir: &Path, names: Vec<String>) -> Result<OutDir, SweepError> {
        Self::lock_kind(dir, Kind::Matrix(names))
    }

    fn lock_kind(dir: &Path, kind: Kind) -> Result<OutDir, SweepError> {
        let real = resolve(dir)?;
        let (parent, name) = split(&real, dir)?;
        let parent = parent.to_path_buf();
        std::fs::create_dir_all(&parent).map_err(io_err(&parent))?;
        let lock_path = parent.join(format!(".{name}.electsim-lock"));
        let lock = loop {
            let mut f = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&lock_path)
                .map_err(io_err(&lock_path))?;
            if !crate::fsutil::try_lock(&f).map_err(io_err(&lock_path))? {
                let holder = std::fs::read_to_string(&lock_path).unwrap_or_default();
                let holder = holder.trim();
                return Err(SweepError::Busy(format!(
                    "`{}` is being written by another electsim process{}; wait for it to finish, or choose another --out (its lock `{}` is released when that process exits)",
                    dir.display(),
                    if holder.is_empty() {
                        String::new()
                    } else {
                        format!(" (pid {holder})")
                    },
                    lock_path.display()
                )));
            }
            // The previous holder removes the lock file when it finishes; if it did so
            // after we opened it, our lock is on a dead file: take a fresh one.
            if same_file(&f, &lock_path) {
                f.set_len(0).map_err(io_err(&lock_path))?;
                writeln!(f, "{}", std::process::id()).map_err(io_err(&lock_path))?;
                break f;
            }
        };
        let od = OutDir {
            shown: dir.to_path_buf(),
            stage: parent.join(format!(".{name}.electsim-new")),
            old: parent.join(format!(".{name}.electsim-old")),
            real,
            lock_path,
            committed: false,
            kind,
            _lock: lock,
        };
        od.recover()?;
        Ok(od)
    }

    /// The output directory as given.
    pub fn dir(&self) -> &Path {
        &self.shown
    }

    /// The staging directory, where new results are built.
    pub fn stage(&self) -> &Path {
        &self.stage
    }

    /// Undo the leftovers of an interrupted command: the old directory of a non-atomic swap
    /// goes back into place (or is cleaned if the new one made it), and a staging directory
    /// without a journal (old results after a swap, or a stage that never started) is cleaned.
    fn recover(&self) -> Result<(), SweepError> {
        if exists(&self.old) {
            if exists(&self.real) {
                self.discard(&self.old)?;
            } else {
                std::fs::rename(&self.old, &self.real).map_err(io_err(&self.real))?;
            }
        }
        if self.stage.is_dir() && !self.stage.join(JOURNAL).is_file() {
            self.discard(&self.stage)?;
        }
        Ok(())
    }

    /// Refuse to go on if the directory holds something `replace` does not allow replacing.
    pub fn check_owner(&self, this: &Manifest, replace: Replace) -> Result<(), SweepError> {
        check_owner(&self.real, &self.shown, Some(this), replace)
    }

    /// An empty staging directory (whatever an earlier stage held is cleaned).
    pub fn fresh_stage(&self) -> Result<(), SweepError> {
        if exists(&self.stage) {
            self.discard(&self.stage)?;
        }
        std::fs::create_dir(&self.stage).map_err(io_err(&self.stage))
    }

    /// Swap the complete staging directory into place, then clean the old results.
    pub fn commit(&mut self) -> Result<(), SweepError> {
        sync_dir(&self.stage);
        if !exists(&self.real) {
            std::fs::rename(&self.stage, &self.real).map_err(io_err(&self.real))?;
        } else {
            match crate::fsutil::exchange(&self.stage, &self.real) {
                Ok(()) => self.discard(&self.stage)?,
                Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
                    // Two renames; `recover` repairs a crash between them.
                    std::fs::rename(&self.real, &self.old).map_err(io_err(&self.real))?;
                    std::fs::rename(&self.stage, &self.real).map_err(io_err(&self.real))?;
                    self.discard(&self.old)?;
                }
                Err(e) => return Err(io_err(&self.real)(e)),
            }
        }
        if let Some(p) = self.real.parent() {
            sync_dir(p);
        }
        self.committed = true;
        Ok(())
    }

    /// Remove a replaced or abandoned results directory: delete what electsim writes, move
    /// everything else back into the output directory.
    fn discard(&self, path: &Path) -> Result<(), SweepError> {
        discard_into(path, &self.real, &self.kind)
    }
}

/// Whether the results directory `real` (shown as `shown`) may be replaced under `replace`
/// by the sweep `this` (`None`: any sweep).
pub fn check_owner(
    real: &Path,
    shown: &Path,
    this: Option<&Manifest>,
    replace: Replace,
) -> Result<(), SweepError> {
    if replace == Replace::Anything || !real.is_dir() {
        return Ok(());
    }
    let mpath = real.join(MANIFEST);

    let found = match std::fs::read_to_string(&mpath) {
        Ok(text) => Manifest::from_json(&text).ok(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(&mpath)(e)),
    };
    match found {
        Some(_) if replace == Replace::AnySweep => Ok(()),
        Some(found) => {
            let Some(this) = this else { return Ok(()) };
            let why = this.mismatch(&found).or_else(|| {
                (found.shard != this.shard).then(|| {
                    let s = |s: Option<super::shard::Shard>| {
                        s.map_or("the whole sweep".to_string(), |s| format!("shard {s}"))
                    };
                    format!("it holds {}, this is {}", s(found.shard), s(this.shard))
                })
            });
            match why {
                None => Ok(()),
                Some(why) => Err(SweepError::Mismatch(format!(
                    "refusing to overwrite `{}`: it holds the results of another sweep ({why}); pass --force to replace them, or choose another --out",
                    shown.display()
                ))),
            }
        }
        None => {
            let foreign: Vec<&str> = OWNED
                .iter()
                .copied()
                .filter(|n| exists(&real.join(n)))
                .collect();
            if foreign.is_empty() {
                Ok(())
            } else {
                Err(SweepError::Mismatch(format!(
                    "refusing to overwrite `{}`: it holds {} but no valid {MANIFEST}, so electsim did not write them; pass --force to replace them, or choose another --out",
                    shown.display(),
                    foreign.join(", ")
                )))
            }
        }
    }
}

/// Empty and remove `path`, a replaced or abandoned directory of kind `kind`: delete what
/// electsim writes there, move every other entry into `dest` (created if needed).
fn discard_into(path: &Path, dest: &Path, kind: &Kind) -> Result<(), SweepError> {
    for entry in std::fs::read_dir(path).map_err(io_err(path))? {
        let entry = entry.map_err(io_err(path))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let p = entry.path();
        let ft = entry.file_type().map_err(io_err(&p))?;
        let sub = match kind {
            Kind::Results if name == CHARTS && ft.is_dir() => Some(Kind::Charts),
            Kind::Matrix(names) if ft.is_dir() && names.contains(&name) => Some(Kind::Results),
            _ => None,
        };
        let owned_file = ft.is_file()
            && match kind {
                Kind::Results => OWNED.contains(&name.as_str()) || is_temp(&name),
                Kind::Charts => is_chart(&name),
                Kind::Matrix(_) => name == MATRIX_MD || is_temp(&name),
            };
        if let Some(sub) = sub {
            discard_into(&p, &dest.join(&name), &sub)?;
        } else if is_private(&name) {
            // Another output directory's stage, old copy or lock (a nested sweep's).
            let r = if ft.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
            r.map_err(io_err(&p))?;
        } else if owned_file {
            std::fs::remove_file(&p).map_err(io_err(&p))?;
        } else {
            std::fs::create_dir_all(dest).map_err(io_err(dest))?;
            keep(&p, dest, &name)?;
        }
    }
    std::fs::remove_dir(path).map_err(io_err(path))
}

impl Drop for OutDir {
    fn drop(&mut self) {
        // A failed command's stage goes, unless it holds a journal that --resume can use.
        if !self.committed && self.stage.is_dir() && !self.stage.join(JOURNAL).is_file() {
            let _ = self.discard(&self.stage);
        }
        // Removed while still locked; a process that opened it meanwhile notices (same_file).
        let _ = std::fs::remove_file(&self.lock_path);
    }
}

/// The staging directory, old copy or lock file of some output directory.
fn is_private(name: &str) -> bool {
    name.starts_with('.')
        && [".electsim-new", ".electsim-old", ".electsim-lock"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// A chart file (or a temporary file of one) in a `charts/` directory.
fn is_chart(name: &str) -> bool {
    name.ends_with(".png") || name.ends_with(".svg") || is_temp(name)
}

/// A temporary file of [`crate::fsutil::write_atomic`] (`.NAME.tmp`).
fn is_temp(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".tmp")
}

/// Move `p` into `dest_dir` as `name`, or `name.kept`, `name.kept2`, ... if taken.
fn keep(p: &Path, dest_dir: &Path, name: &str) -> Result<(), SweepError> {
    let mut dest = dest_dir.join(name);
    let mut n = 1;
    while exists(&dest) {
        dest = dest_dir.join(if n == 1 {
            format!("{name}.kept")
        } else {
            format!("{name}.kept{n}")
        });
        n += 1;
    }
    std::fs::rename(p, &dest).map_err(io_err(&dest))
}

fn same_file(f: &File, path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (f.metadata(), std::fs::metadata(path)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (f, path);
        true
    }
}

/// Best effort: make renames in `dir` durable.
fn sync_dir(dir: &Path) {
    if let Ok(f) = File::open(dir) {
        let _ = f.sync_all();
    }
}
