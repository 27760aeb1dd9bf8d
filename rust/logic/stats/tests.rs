use super::*;
use std::collections::HashSet;
use std::string::String;

#[test]
fn names_unique_and_indexed() {
    let names: HashSet<&str> = ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), COUNT);
    assert_eq!(COUNT, 33);
    for (i, s) in ALL.iter().enumerate() {
        assert_eq!(s.index(), i);
        assert!(s.name().len() <= 24, "{}", s.name());
    }
    assert_eq!(Stat::ALL, ALL);
    assert_eq!(Stat::XfrmInError.name(), "XfrmInError");
    assert_eq!(Stat::XfrmAcquireError.index(), 27);
    assert_eq!(Stat::XfrmInStateDirError.index(), 29);
}

#[test]
fn table_format() {
    let mut values = [0u64; COUNT];
    values[Stat::XfrmInNoStates.index()] = 7;
    values[Stat::XfrmOutBundleCheckError.index()] = u64::MAX;
    let mut out = String::new();
    format_table(&values, &mut out).unwrap();
    let lines: std::vec::Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), COUNT);
    assert_eq!(lines[0], "XfrmInError             \t0");
    assert_eq!(lines[3], "XfrmInNoStates          \t7");
    assert_eq!(lines[16], "XfrmOutBundleCheckError \t18446744073709551615");
    assert_eq!(lines[COUNT - 1], "RxfrmOutMtuExceeded     \t0");
    assert!(out.ends_with('\n'));
    // Short input: the rest shows 0; extra values are ignored.
    let mut short = String::new();
    format_table(&[1], &mut short).unwrap();
    assert!(short.starts_with("XfrmInError             \t1\nXfrmInBufferError       \t0\n"));
    let mut long = String::new();
    format_table(&[0; COUNT + 5], &mut long).unwrap();
    assert_eq!(long.lines().count(), COUNT);
}
