//! Input read with a cap; output written atomically.

use fsim::files::{READ_MAX_BYTES, read_capped, write_atomic};

fn dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("fsim-files-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn an_endless_input_is_refused_not_read_forever() {
    let d = dir("zero");
    let link = d.join("scenario.toml");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let e = read_capped(&link).unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");
    let big = d.join("big.toml");
    std::fs::write(&big, vec![b'#'; READ_MAX_BYTES as usize + 1]).unwrap();
    assert!(read_capped(&big).is_err());
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn an_atomic_write_replaces_whole_and_a_failed_one_leaves_the_old_file() {
    let d = dir("atomic");
    let f = d.join("entry.json");
    write_atomic(&f, "first").unwrap();
    write_atomic(&f, "second").unwrap();
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "second");
    // A target the rename cannot replace (a non-empty directory): the write fails, the
    // directory and its content are untouched, and no temporary file is left.
    let taken = d.join("taken");
    std::fs::create_dir_all(&taken).unwrap();
    std::fs::write(taken.join("keep"), "kept").unwrap();
    assert!(write_atomic(&taken, "new").is_err());
    assert_eq!(std::fs::read_to_string(taken.join("keep")).unwrap(), "kept");
    let left: Vec<_> = std::fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert!(left.iter().all(|n| !n.contains("fsim-tmp")), "{left:?}");
    // A directory that does not exist: an error, nothing written.
    assert!(write_atomic(&d.join("missing/entry.json"), "x").is_err());
    std::fs::remove_dir_all(&d).ok();
}
