//! Human-readable quantities shared by the CLI and the Maltego labels.

/// Human-readable byte counts (`18.3 kB`), decimal units as capinfos prints them.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    match (unit, UNITS.get(unit)) {
        (0, _) => format!("{n} B"),
        (_, Some(u)) => format!("{v:.1} {u}"),
        _ => format!("{n} B"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_human_bytes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(18_300), "18.3 kB");
        assert_eq!(human_bytes(2_500_000_000), "2.5 GB");
    }
}
