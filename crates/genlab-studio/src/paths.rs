//! Names from the page turned into paths, only ever inside the runs folder. A run is named by
//! its path below the folder (`vae`, `table/vae-default`), a file by its path below the run
//! (`samples/step-000500.png`). Refused: empty or long names, absolute paths, `.` and `..`
//! components, characters outside letters, digits, space and `._-+/,()=@` (no `%`, backslash or
//! control character: a double-encoded traversal is refused as a name), symlinks that lead out (the
//! canonical path must stay under the canonical root), and anything that is not a run or a file
//! of a kind the studio shows.

use std::path::{Component, Path, PathBuf};

/// Longest name accepted.
const MAX_NAME: usize = 256;

/// File kinds served from a run.
const SERVED: &[&str] = &["png", "svg", "json", "jsonl", "toml"];

/// Whether `name` may name something under the runs folder (see the module docs).
pub fn valid(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME {
        return Err(format!("a name is 1 to {MAX_NAME} characters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || "._-+/ ,()=@".contains(*c)))
    {
        return Err(format!("`{c}` cannot be part of a name"));
    }
    let p = Path::new(name);
    if !p
        .components()
        .all(|c| matches!(c, Component::Normal(s) if !s.is_empty()))
        || name.contains("//")
    {
        return Err("a name is a relative path without `.` or `..`".into());
    }
    Ok(())
}

/// `root/name` canonical and still under `root` (itself canonical).
fn inside(root: &Path, name: &str) -> Result<PathBuf, String> {
    valid(name)?;
    let path = std::fs::canonicalize(root.join(name)).map_err(|_| format!("no `{name}` here"))?;
    if !path.starts_with(root) {
        return Err(format!("`{name}` leads outside its folder"));
    }
    Ok(path)
}

/// The run directory `name` names under `root` (canonical).
pub fn run(root: &Path, name: &str) -> Result<PathBuf, String> {
    let dir = inside(root, name)?;
    let r = genlab_core::run_dir::RunDir::at(&dir);
    if !(r.config_file().is_file() && r.meta_file().is_file()) {
        return Err(format!(
            "`{name}` is not a run (no config.toml and meta.json)"
        ));
    }
    Ok(dir)
}

/// The file `path` names inside run directory `dir` (canonical), of a kind the studio shows.
pub fn file(dir: &Path, path: &str) -> Result<PathBuf, String> {
    let f = inside(dir, path)?;
    let kind = f.extension().and_then(|e| e.to_str()).unwrap_or("");
    if !f.is_file() || !SERVED.contains(&kind) {
        return Err(format!("`{path}` is not a picture or record of the run"));
    }
    Ok(f)
}

/// `path` (under `root`) as the name the page uses: `/`-separated.
pub fn name_of(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_folder_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(tmp.path()).unwrap();
        std::fs::create_dir_all(root.join("a/samples")).unwrap();
        std::fs::write(root.join("a/samples/x.png"), b"png").unwrap();
        std::fs::write(tmp.path().join("secret.toml"), b"x").unwrap();
        let a = root.join("a");
        assert!(file(&a, "samples/x.png").is_ok());
        for bad in [
            "../secret.toml",
            "samples/../../secret.toml",
            "/etc/passwd",
            "%2e%2e/secret.toml",
            "%252e%252e/secret.toml",
            "samples//x.png",
            "./samples/x.png",
            "samples\\..\\x.png",
            "",
        ] {
            assert!(file(&a, bad).is_err(), "{bad}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(tmp.path().join("secret.toml"), a.join("out.toml")).unwrap();
            let err = file(&a, "out.toml").unwrap_err();
            assert!(err.contains("outside"), "{err}");
        }
        // A folder that is not a run is not a run.
        assert!(run(&root, "a").unwrap_err().contains("not a run"));
        assert_eq!(name_of(&root, &root.join("a/b")), "a/b");
    }
}
