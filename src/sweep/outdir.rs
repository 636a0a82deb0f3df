//! Safe output directories: how `sweep`, `merge` and `matrix` replace a results directory
//! without ever losing or mixing data.
//!
//! For an output directory `P/NAME`:
//!
//! * **Lock.** `P/.NAME.electsim-lock` is locked (`flock`) for the whole command and holds
//!   the owner's pid. A second electsim writing the same directory is refused at once; the OS
//!   drops the lock when its holder dies (also on `kill -9`), so a stale lock file never blocks.
//!   Exclusion covers the whole tree: a command is also refused while another holds the lock
//!   of a directory that contains `P/NAME` (a matrix around a sweep) or one inside it (a
//!   sweep inside a matrix's results), whichever started first.
//! * **Refused before the work.** An output that is, or contains, the working directory (the
//!   swap would pull it from under the caller's shell), or that holds a mount point or a
//!   special file (the swap cannot carry them), is refused at once with the reason.
//! * **Ownership.** Before anything is written, the directory must be empty, missing, or hold
//!   results of the same sweep (its `sweep.json` matches). Results of another sweep, or
//!   `runs.csv` / `summary.csv` / `charts/` without a `sweep.json` (someone else's files), are
//!   only replaced with `--force`.
//! * **Staging.** New results (and the journal of a running sweep) are built in
//!   `P/.NAME.electsim-new/`. Only when they are complete is that directory swapped with
//!   `P/NAME` in one atomic `renameat2(RENAME_EXCHANGE)`, so a reader or a crash sees the old
//!   complete results or the new complete results, never a mix; stale charts of a previous
//!   sweep go away with the old directory.
//! * **Foreign files never leave `P/NAME`.** Just before the swap every entry electsim does
//!   not own (a user's notes, shard directories, another command's journal) is hard-linked
//!   into the new directory (directories recreated, symlinks copied), so at every instant,
//!   also after a `kill -9`, each of them is visible at its own path. Cleaning the replaced
//!   directory deletes only the names electsim writes ([`OWNED`]) and the links; an entry
//!   that appeared during the swap is moved back (as `X.kept` if `X` is taken).

use super::SweepError;
use super::manifest::Manifest;
use super::output::{JOURNAL, MANIFEST, RUNS_CSV, SUMMARY_CSV, io_err};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The entries of a results directory that electsim writes (and may delete when it
/// replaces the directory). `charts/` counts only for its `.png` / `.svg` files; the
/// `compare-*.{csv,md}` files of `electsim compare` count too (see [`is_compare`]), so they
/// go with the results they were computed from.
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
    /// A directory electsim owns nothing in (inside a foreign directory being put back).
    Foreign,
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
        refuse_working_dir(&real, dir)?;
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
                return Err(busy(dir, &lock_path));
            }
            // The previous holder removes the lock file when it finishes; if it did so
            // after we opened it, our lock is on a dead file: take a fresh one.
            if same_file(&f, &lock_path) {
                f.set_len(0).map_err(io_err(&lock_path))?;
                writeln!(f, "{}", std::process::id()).map_err(io_err(&lock_path))?;
                break f;
            }
        };
        held().push(lock_path.clone());
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
        // Our own lock is taken first, then we look for writers around and inside: of two
        // commands whose outputs nest, at least the second to get here sees the first.
        od.refuse_enclosing_writers()?;
        if od.real.is_dir() {
            survey(&od.real, &od.shown)?;
        }
        od.recover()?;
        Ok(od)
    }

    /// Refuse while another process writes a directory that contains this one.
    fn refuse_enclosing_writers(&self) -> Result<(), SweepError> {
        for dir in self.real.ancestors().skip(1) {
            let (Some(p), Some(n)) = (dir.parent(), dir.file_name()) else {
                continue;
            };
            let lock = p.join(format!(".{}.electsim-lock", n.to_string_lossy()));
            if locked_by_other(&lock) {
                return Err(SweepError::Busy(format!(
                    "`{}` is inside `{}`, which another electsim process is writing ({}); wait for it to finish, or choose an --out outside it",
                    self.shown.display(),
                    dir.display(),
                    holder(&lock)
                )));
            }
        }
        Ok(())
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

    /// Swap the complete staging directory into place, then clean the old results. Every
    /// entry of the old directory that electsim does not own is linked into the new one
    /// first, so it never disappears from its path.
    pub fn commit(&mut self) -> Result<(), SweepError> {
        if self.real.is_dir() {
            carry_foreign(&self.real, &self.stage, &self.kind)?;
        }
        sync_dir(&self.stage);
        if !exists(&self.real) {
            std::fs::rename(&self.stage, &self.real).map_err(io_err(&self.real))?;
        } else {
            match crate::fsutil::exchange(&self.stage, &self.real) {
                Ok(()) => {
                    crate::fsutil::kill_point("swapped");
                    self.discard(&self.stage)?
                }
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

    /// Remove a replaced or abandoned results directory: delete what electsim writes (and
    /// the links [`OutDir::commit`] made), move everything else back into the output directory.
    fn discard(&self, path: &Path) -> Result<(), SweepError> {
        discard_into(path, &self.real, &self.kind)
    }
}

/// Lock paths this process holds: a matrix's own sweeps must not count it as another writer.
fn held() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    static HELD: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    HELD.lock().unwrap_or_else(|e| e.into_inner())
}

fn busy(dir: &Path, lock_path: &Path) -> SweepError {
    SweepError::Busy(format!(
        "`{}` is being written by another electsim process ({}); wait for it to finish, or choose another --out (its lock `{}` is released when that process exits)",
        dir.display(),
        holder(lock_path),
        lock_path.display()
    ))
}

/// "pid N" from a lock file, for messages.
fn holder(lock_path: &Path) -> String {
    let pid = std::fs::read_to_string(lock_path).unwrap_or_default();
    match pid.trim() {
        "" => "pid unknown".to_string(),
        p => format!("pid {p}"),
    }
}

/// Whether some other process holds the lock file at `lock` (probed with a shared,
/// non-blocking `flock` that is released at once; a missing file is no lock).
fn locked_by_other(lock: &Path) -> bool {
    if held().iter().any(|h| h == lock) {
        return false;
    }
    let Ok(f) = File::open(lock) else {
        return false;
    };
    matches!(crate::fsutil::try_lock_shared(&f), Ok(false))
}

/// Refuse an output directory that is, or contains, the working directory: the swap would
/// leave the caller's shell in a deleted directory.
fn refuse_working_dir(real: &Path, shown: &Path) -> Result<(), SweepError> {
    let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize()) else {
        return Ok(());
    };
    if cwd.starts_with(real) {
        return Err(SweepError::Usage(format!(
            "--out `{}` is {}the working directory; electsim replaces a results directory as a whole, which would pull the directory from under your shell; run from outside it, or choose a directory inside it such as `{}`",
            shown.display(),
            if cwd == real { "" } else { "an ancestor of " },
            shown.join("out").display()
        )));
    }
    Ok(())
}

/// Most entries [`survey`] looks at: an output directory is results plus a user's notes,
/// not a home directory.
pub const SURVEY_LIMIT: u64 = 1_000_000;

/// Look through an existing output directory before any work: another process writing a
/// directory inside it, a mount point or a special file (which the swap cannot carry along)
/// are refused with the path.
fn survey(real: &Path, shown: &Path) -> Result<(), SweepError> {
    use std::os::unix::fs::MetadataExt;
    let root_dev = std::fs::metadata(real).map_err(io_err(real))?.dev();
    let mut todo = vec![real.to_path_buf()];
    let mut seen = 0u64;
    while let Some(dir) = todo.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            seen += 1;
            if seen > SURVEY_LIMIT {
                return Err(SweepError::Usage(format!(
                    "--out `{}` holds more than {SURVEY_LIMIT} entries; electsim replaces a results directory as a whole and will not carry that many along; choose a directory of its own",
                    shown.display()
                )));
            }
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).map_err(io_err(&p))?;
            let ft = m.file_type();
            let shown_p = shown.join(p.strip_prefix(real).unwrap_or(&p));
            if ft.is_dir() {
                if m.dev() != root_dev {
                    return Err(SweepError::Usage(format!(
                        "`{}` is a mount point inside the output directory; electsim replaces a results directory as a whole and cannot carry a mount point along; unmount it, or choose another --out",
                        shown_p.display()
                    )));
                }
                todo.push(p);
            } else if ft.is_file() {
                if name.ends_with(".electsim-lock") && locked_by_other(&p) {
                    return Err(SweepError::Busy(format!(
                        "another electsim process ({}) is writing inside `{}` (its lock `{}`); wait for it to finish, or choose another --out",
                        holder(&p),
                        shown.display(),
                        shown_p.display()
                    )));
                }
            } else if !ft.is_symlink() {
                return Err(SweepError::Usage(format!(
                    "`{}` is a special file (FIFO, socket or device) inside the output directory; electsim replaces a results directory as a whole and cannot carry it along; move it, or choose another --out",
                    shown_p.display()
                )));
            }
        }
    }
    Ok(())
}

/// What an entry of a directory of some [`Kind`] is to electsim.
enum Role {
    /// A file electsim writes there.
    File,
    /// A directory electsim writes, of this kind.
    Dir(Kind),
    /// Anything else: the user's (or another command's).
    Foreign,
}

fn role(kind: &Kind, name: &str, ft: std::fs::FileType) -> Role {
    if ft.is_dir() {
        return match kind {
            Kind::Results if name == CHARTS => Role::Dir(Kind::Charts),
            Kind::Matrix(names) if names.iter().any(|n| n == name) => Role::Dir(Kind::Results),
            _ => Role::Foreign,
        };
    }
    let owned = ft.is_file()
        && match kind {
            Kind::Results => OWNED.contains(&name) || is_compare(name) || is_temp(name),
            Kind::Charts => is_chart(name),
            Kind::Matrix(_) => name == MATRIX_MD || is_temp(name),
            Kind::Foreign => false,
        };
    if owned { Role::File } else { Role::Foreign }
}

/// Link every foreign entry of `real` (a directory of kind `kind`) into `stage`: files
/// hard-linked, directories recreated with their contents linked, symlinks copied. Nothing
/// in `real` changes, and no data is copied.
fn carry_foreign(real: &Path, stage: &Path, kind: &Kind) -> Result<(), SweepError> {
    for entry in std::fs::read_dir(real).map_err(io_err(real))? {
        let entry = entry.map_err(io_err(real))?;
        let name = entry.file_name();
        let p = entry.path();
        let ft = entry.file_type().map_err(io_err(&p))?;
        let to = stage.join(&name);
        match role(kind, &name.to_string_lossy(), ft) {
            Role::File => {}
            Role::Dir(sub) => {
                let made = !exists(&to);
                if made {
                    std::fs::create_dir(&to).map_err(io_err(&to))?;
                }
                carry_foreign(&p, &to, &sub)?;
                // An owned directory the new results do not have goes, unless it held
                // something of the user's.
                if made
                    && std::fs::read_dir(&to)
                        .map_err(io_err(&to))?
                        .next()
                        .is_none()
                {
                    std::fs::remove_dir(&to).map_err(io_err(&to))?;
                }
            }
            Role::Foreign if exists(&to) => {
                return Err(SweepError::Usage(format!(
                    "`{}` is in the way of the new results (electsim writes an entry of that name); move it, or choose another --out",
                    p.display()
                )));
            }
            Role::Foreign => link_tree(&p, &to, ft)?,
        }
    }
    Ok(())
}

/// Mirror `from` at `to` without copying data: hard links for files, new directories,
/// copied symlinks.
fn link_tree(from: &Path, to: &Path, ft: std::fs::FileType) -> Result<(), SweepError> {
    if ft.is_symlink() {
        let target = std::fs::read_link(from).map_err(io_err(from))?;
        std::os::unix::fs::symlink(target, to).map_err(io_err(to))
    } else if ft.is_dir() {
        std::fs::create_dir(to).map_err(io_err(to))?;
        for entry in std::fs::read_dir(from).map_err(io_err(from))? {
            let entry = entry.map_err(io_err(from))?;
            let p = entry.path();
            let ft = entry.file_type().map_err(io_err(&p))?;
            link_tree(&p, &to.join(entry.file_name()), ft)?;
        }
        Ok(())
    } else {
        std::fs::hard_link(from, to).map_err(io_err(from))
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
/// electsim writes there and what is already at the same path in `dest` (the links
/// [`carry_foreign`] made), move every other entry into `dest` (created if needed).
fn discard_into(path: &Path, dest: &Path, kind: &Kind) -> Result<(), SweepError> {
    for entry in std::fs::read_dir(path).map_err(io_err(path))? {
        let entry = entry.map_err(io_err(path))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let p = entry.path();
        let ft = entry.file_type().map_err(io_err(&p))?;
        let there = dest.join(&name);
        match role(kind, &name, ft) {
            Role::Dir(sub) => discard_into(&p, &there, &sub)?,
            Role::File => std::fs::remove_file(&p).map_err(io_err(&p))?,
            Role::Foreign if same_entry(&p, &there) => remove_entry(&p, ft)?,
            Role::Foreign if ft.is_dir() && there.is_dir() => {
                discard_into(&p, &there, &Kind::Foreign)?
            }
            // The stage or lock of a sweep this command ran inside its own stage (a matrix's):
            // not carried from the output directory, so it is this command's to remove.
            Role::Foreign if is_private(&name) && !exists(&there) => remove_entry(&p, ft)?,
            Role::Foreign => {
                std::fs::create_dir_all(dest).map_err(io_err(dest))?;
                keep(&p, dest, &name)?;
            }
        }
    }
    std::fs::remove_dir(path).map_err(io_err(path))
}

/// Whether `a` and `b` are one file (hard links) or equal symlinks.
fn same_entry(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
        (Ok(x), Ok(y)) if x.file_type().is_symlink() && y.file_type().is_symlink() => {
            std::fs::read_link(a).ok() == std::fs::read_link(b).ok()
        }
        (Ok(x), Ok(y)) if x.is_dir() || y.is_dir() => false,
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

fn remove_entry(p: &Path, ft: std::fs::FileType) -> Result<(), SweepError> {
    if ft.is_dir() {
        std::fs::remove_dir_all(p)
    } else {
        std::fs::remove_file(p)
    }
    .map_err(io_err(p))
}

impl Drop for OutDir {
    fn drop(&mut self) {
        // A failed command's stage goes, unless it holds a journal that --resume can use.
        if !self.committed && self.stage.is_dir() && !self.stage.join(JOURNAL).is_file() {
            let _ = self.discard(&self.stage);
        }
        // Removed while still locked; a process that opened it meanwhile notices (same_file).
        let _ = std::fs::remove_file(&self.lock_path);
        held().retain(|h| h != &self.lock_path);
    }
}

/// The staging directory, old copy or lock file of some output directory.
fn is_private(name: &str) -> bool {
    name.starts_with('.')
        && [".electsim-new", ".electsim-old", ".electsim-lock"]
            .iter()
            .any(|s| name.ends_with(s))
}

/// A file of `electsim compare` (`compare-<baseline>.csv` / `.md`).
pub fn is_compare(name: &str) -> bool {
    name.starts_with("compare-") && (name.ends_with(".csv") || name.ends_with(".md"))
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
