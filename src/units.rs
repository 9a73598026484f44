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

/// Formats nanoseconds since the epoch as RFC 3339 UTC (`2014-02-20T10:57:27.123456Z`),
/// with nine fractional digits only when the value needs them.
pub fn rfc3339(ns: i64) -> String {
    let mut out = Vec::with_capacity(32);
    push_rfc3339(&mut out, ns);
    // Only ASCII digits and punctuation were pushed.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends [`rfc3339`]'s text to `out` without formatting machinery: the index of a
/// million sessions writes two million of these.
pub fn push_rfc3339(out: &mut Vec<u8>, ns: i64) {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    // i64 nanoseconds span the years 1677 to 2262; four digits always suffice.
    push_digits(out, y.clamp(0, 9999) as u64, 4);
    out.push(b'-');
    push_digits(out, u64::from(m), 2);
    out.push(b'-');
    push_digits(out, u64::from(d), 2);
    out.push(b'T');
    push_digits(out, (rem / 3600) as u64, 2);
    out.push(b':');
    push_digits(out, ((rem % 3600) / 60) as u64, 2);
    out.push(b':');
    push_digits(out, (rem % 60) as u64, 2);
    out.push(b'.');
    if frac % 1000 == 0 {
        push_digits(out, (frac / 1000) as u64, 6);
    } else {
        push_digits(out, frac as u64, 9);
    }
    out.push(b'Z');
}

/// Appends the last `width` decimal digits of `v`, zero-padded.
fn push_digits(out: &mut Vec<u8>, mut v: u64, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out.iter_mut().skip(start).rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
/// `civil_from_days`).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A Unix time in whole seconds as RFC 3339 UTC without fraction (`2014-02-20T10:57:27Z`).
pub fn rfc3339_seconds(secs: i64) -> String {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_as_format_did() {
        // The text the `format!` version wrote, kept as the reference.
        fn reference(ns: i64) -> String {
            let secs = ns.div_euclid(1_000_000_000);
            let frac = ns.rem_euclid(1_000_000_000);
            let rem = secs.rem_euclid(86_400);
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            let frac = if frac % 1000 == 0 {
                format!("{:06}", frac / 1000)
            } else {
                format!("{frac:09}")
            };
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac}Z",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60
            )
        }
        let mut cases = vec![
            0,
            -1,
            1,
            999,
            1_000,
            i64::MIN,
            i64::MAX,
            1_392_893_847_123_456_000,
        ];
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..10_000 {
            // xorshift: spread over the whole i64 range and near the epoch.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            cases.push(x);
            cases.push(x % 4_000_000_000_000_000_000);
            cases.push((x % 1_000_000_000_000) * 1_000);
        }
        for ns in cases {
            assert_eq!(rfc3339(ns), reference(ns), "{ns}");
        }
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(1), "1970-01-01T00:00:00.000000001Z");
    }

    #[test]
    fn formats_human_bytes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(18_300), "18.3 kB");
        assert_eq!(human_bytes(2_500_000_000), "2.5 GB");
    }
}
