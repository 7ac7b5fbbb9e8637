//! Token files: where a node leaves its control token for its owner, and where p2plab's
//! clients find it.
//!
//! A node that serves a control port draws a fresh [`ControlToken`] from the operating
//! system's random source and writes it to `control-<ip>-<port>` in the control folder,
//! a folder only its user may enter (mode 0700), in a file only its user may read (mode 0600).
//! Whoever can read that file is the node's owner; nobody else — another user on the
//! machine, a web page in the owner's browser — can learn it. The file goes when the node
//! stops.

use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rand::TryRngCore;

use p2plab_peer_protocol::control::ControlToken;

/// Overrides where token files go (the scenario runner gives its children a private one).
pub const DIR_ENV: &str = "P2PLAB_RUNTIME_DIR";

/// A token given directly, for a node on another machine whose token file is not here.
pub const TOKEN_ENV: &str = "P2PLAB_CONTROL_TOKEN";

/// The control folder: `$P2PLAB_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/p2plab` (a per-user
/// folder the system empties at logout), else `~/.p2plab/run`.
///
/// # Errors
/// `NotFound` when none of these variables is set.
pub fn control_dir() -> io::Result<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = var(DIR_ENV) {
        return Ok(PathBuf::from(dir));
    }
    if let Some(dir) = var("XDG_RUNTIME_DIR") {
        return Ok(PathBuf::from(dir).join("p2plab"));
    }
    var("HOME")
        .map(|home| PathBuf::from(home).join(".p2plab").join("run"))
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no folder for control tokens: set {DIR_ENV}, XDG_RUNTIME_DIR or HOME"),
            )
        })
}

/// The token file of the control port at `addr`, inside `dir`.
pub fn token_path(dir: &Path, addr: SocketAddr) -> PathBuf {
    let ip = addr.ip().to_string().replace(':', "_");
    dir.join(format!("control-{ip}-{}", addr.port()))
}

/// Where the token for `path` is written before its rename: `path` with `.tmp` appended.
/// (Not `with_extension`, which would take the `.1-7001` of `control-127.0.0.1-7001` for
/// an extension and give every node on 127.0.0.1 the same temporary file.)
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// A fresh token from the operating system's random source.
///
/// # Errors
/// If the operating system has no randomness to give.
pub fn generate() -> io::Result<ControlToken> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut bytes)
        .map_err(io::Error::other)?;
    Ok(ControlToken::from_random_bytes(bytes))
}

/// A written token file; dropping it removes the file.
#[derive(Debug)]
pub struct TokenFile {
    path: PathBuf,
}

impl TokenFile {
    /// Writes `token` for the control port at `addr` into `dir` (created 0700 if missing).
    ///
    /// # Errors
    /// I/O errors, or `PermissionDenied` if `dir` exists and others may read or enter it.
    pub fn write(dir: &Path, addr: SocketAddr, token: &ControlToken) -> io::Result<Self> {
        private_dir(dir)?;
        let path = token_path(dir, addr);
        // Write beside it, then rename: a reader never sees half a token, and a stale file
        // from a node that was killed is replaced whole.
        let tmp = tmp_path(&path);
        let _ = fs::remove_file(&tmp);
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        writeln!(file, "{}", token.as_str())?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        Ok(TokenFile { path })
    }

    /// Where the token is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TokenFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Creates `dir` for its user alone, or checks that an existing one is.
fn private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mode = fs::metadata(dir)?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "{} can be read by other users (mode {:o}); make it private: chmod 700 {0}",
                dir.display(),
                mode & 0o777
            ),
        ));
    }
    Ok(())
}

/// The token for the control port at `addr`: `$P2PLAB_CONTROL_TOKEN` if set, else the
/// token file in `dir` (for a port bound to every address, the file of `0.0.0.0` or `::`).
///
/// # Errors
/// A sentence saying which file was looked for and why it could not be read.
pub fn find(dir: &Path, addr: SocketAddr) -> Result<ControlToken, String> {
    if let Some(text) = std::env::var_os(TOKEN_ENV) {
        let text = text.to_string_lossy();
        return ControlToken::parse(&text).map_err(|e| format!("{TOKEN_ENV}: {e}"));
    }
    let unspecified = match addr {
        SocketAddr::V4(_) => SocketAddr::from(([0, 0, 0, 0], addr.port())),
        SocketAddr::V6(_) => SocketAddr::from(([0u16; 8], addr.port())),
    };
    let exact = token_path(dir, addr);
    let text = fs::read_to_string(&exact)
        .or_else(|_| fs::read_to_string(token_path(dir, unspecified)))
        .map_err(|e| {
            format!(
                "no control token for {addr} ({}: {e}); is a node running there, as your user? \
                 For a node on another machine, set {TOKEN_ENV}",
                exact.display()
            )
        })?;
    ControlToken::parse(&text).map_err(|e| format!("{}: {e}", exact.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_file_is_private_found_by_address_and_removed_on_drop() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        let addr: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        let token = generate().unwrap();
        let file = TokenFile::write(&dir, addr, &token).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(file.path()), 0o600);
        assert_eq!(find(&dir, addr), Ok(token));
        let path = file.path().to_owned();
        drop(file);
        assert!(!path.exists());
        assert!(find(&dir, addr)
            .unwrap_err()
            .contains("control-127.0.0.1-7001"));
    }

    #[test]
    fn a_folder_others_can_read_is_refused() {
        let root = tempfile::tempdir().unwrap();
        fs::set_permissions(root.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let addr: SocketAddr = "127.0.0.1:7001".parse().unwrap();
        let err = TokenFile::write(root.path(), addr, &generate().unwrap()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
    }

    #[test]
    fn nodes_on_one_address_write_through_temporary_files_of_their_own() {
        let dir = Path::new("/run/p2plab");
        let at = |port| tmp_path(&token_path(dir, SocketAddr::from(([127, 0, 0, 1], port))));
        assert_eq!(at(7001), dir.join("control-127.0.0.1-7001.tmp"));
        assert_ne!(at(7001), at(7002));
    }

    #[test]
    fn nodes_started_together_all_write_their_tokens() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("run");
        let files: Vec<_> = std::thread::scope(|s| {
            let writers: Vec<_> = (0..16u16)
                .map(|i| {
                    let dir = &dir;
                    s.spawn(move || {
                        let addr = SocketAddr::from(([127, 0, 0, 1], 7100 + i));
                        TokenFile::write(dir, addr, &generate().unwrap())
                    })
                })
                .collect();
            writers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for (i, file) in files.iter().enumerate() {
            let file = file.as_ref().unwrap();
            assert!(file
                .path()
                .ends_with(format!("control-127.0.0.1-{}", 7100 + i)));
        }
    }

    #[test]
    fn every_token_is_new() {
        assert_ne!(generate().unwrap(), generate().unwrap());
    }
}
