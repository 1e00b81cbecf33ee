// SPDX-License-Identifier: GPL-2.0

//! UUIDs of mediated devices: parsing what userspace writes to `create`,
//! printing the canonical form, and ordering for the UUID index.
//!
//! C header: [`include/linux/uuid.h`](srctree/include/linux/uuid.h)

use kernel::{
    bindings,
    prelude::*, //
};

/// The identity of a mediated device, stored in the byte order of a `guid_t`.
///
/// The canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` maps to
/// `guid_t` bytes the way the kernel's `guid_parse()` and `%pUl` do: the first
/// three groups are little-endian. Ordering is bytewise, which is all the
/// index needs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Uuid([u8; 16]);

/// The order of the global list's index: the bytes as one big-endian
/// number, which is the order of their lexicographic comparison, computed
/// with two word comparisons instead of a call to `memcmp()` at every level
/// of the tree.
impl Ord for Uuid {
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        u128::from_be_bytes(self.0).cmp(&u128::from_be_bytes(other.0))
    }
}

impl PartialOrd for Uuid {
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// For text character pair `i` (0..16), the `guid_t` byte it fills.
const GUID_BYTE_OF_PAIR: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];

/// Offsets of the dashes in the canonical text form.
const DASHES: [usize; 4] = [8, 13, 18, 23];

/// Length of the canonical text form, `UUID_STRING_LEN` in C.
pub(crate) const UUID_STRING_LEN: usize = bindings::UUID_STRING_LEN as usize;

/// Value of one hexadecimal digit, either case.
fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Uuid {
    /// Parses the canonical 36-character form, hexadecimal digits of either case.
    pub(crate) fn parse(text: &[u8]) -> Result<Self> {
        if text.len() != UUID_STRING_LEN {
            return Err(EINVAL);
        }
        let mut bytes = [0u8; 16];
        let mut pair = 0;
        let mut pos = 0;
        while pos < UUID_STRING_LEN {
            if DASHES.contains(&pos) {
                if text[pos] != b'-' {
                    return Err(EINVAL);
                }
                pos += 1;
                continue;
            }
            let high = hex_value(text[pos]).ok_or(EINVAL)?;
            let low = hex_value(text[pos + 1]).ok_or(EINVAL)?;
            bytes[GUID_BYTE_OF_PAIR[pair]] = (high << 4) | low;
            pair += 1;
            pos += 2;
        }
        Ok(Self(bytes))
    }

    /// Parses what userspace writes to a type's `create` file.
    ///
    /// That is the canonical form followed by at most one newline, and
    /// nothing else. The C core looks only at the first 36 bytes, so it also
    /// takes any 37th byte; rejecting that is a deliberate improvement.
    pub(crate) fn parse_create(buf: &[u8]) -> Result<Self> {
        let text = match buf {
            [text @ .., b'\n'] if text.len() == UUID_STRING_LEN => text,
            _ => buf,
        };
        Self::parse(text)
    }

    /// Builds a UUID from the `guid_t` of a C `struct mdev_device`.
    pub(crate) fn from_guid(guid: &bindings::guid_t) -> Self {
        Self(guid.b)
    }

    /// The `guid_t` that C code reads from `struct mdev_device`.
    pub(crate) fn to_guid(self) -> bindings::guid_t {
        bindings::guid_t { b: self.0 }
    }

    /// Writes the canonical lower-case text form, as `%pUl` prints it.
    fn write_canonical(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        for (pair, &byte_index) in GUID_BYTE_OF_PAIR.iter().enumerate() {
            if matches!(pair, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{:02x}", self.0[byte_index])?;
        }
        Ok(())
    }
}

impl core::fmt::Display for Uuid {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.write_canonical(f)
    }
}

impl kernel::fmt::Display for Uuid {
    fn fmt(&self, f: &mut kernel::fmt::Formatter<'_>) -> kernel::fmt::Result {
        self.write_canonical(f)
    }
}

#[kunit_tests(mdev_rs_uuid)]
mod tests {
    use super::*;
    use kernel::str::CString;

    const TEXT: &[u8] = b"00112233-4455-6677-8899-aabbccddeeff";

    #[test]
    fn parse_uses_guid_byte_order() -> Result {
        let uuid = Uuid::parse(TEXT)?;
        let expected = [
            0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd,
            0xee, 0xff,
        ];
        assert_eq!(uuid.0, expected);
        Ok(())
    }

    #[test]
    fn parse_matches_guid_parse() -> Result {
        let c_text = CString::try_from_fmt(fmt!("{}", kernel::str::BStr::from_bytes(TEXT)))?;
        let mut guid = bindings::guid_t::default();
        // SAFETY: `c_text` is a NUL-terminated string and `guid` a valid `guid_t`.
        let ret = unsafe { bindings::guid_parse(c_text.as_char_ptr(), &mut guid) };
        assert_eq!(ret, 0);
        assert!(Uuid::parse(TEXT)? == Uuid::from_guid(&guid));
        Ok(())
    }

    #[test]
    fn display_round_trips() -> Result {
        let uuid = Uuid::parse(TEXT)?;
        let text = CString::try_from_fmt(fmt!("{}", uuid))?;
        assert!(text.to_bytes() == TEXT);
        Ok(())
    }

    #[test]
    fn parse_accepts_upper_case() -> Result {
        let upper = Uuid::parse(b"00112233-4455-6677-8899-AABBCCDDEEFF")?;
        assert!(upper == Uuid::parse(TEXT)?);
        Ok(())
    }

    #[test]
    fn parse_rejects_malformed() {
        assert!(Uuid::parse(b"00112233-4455-6677-8899-aabbccddeef").is_err());
        assert!(Uuid::parse(b"00112233-4455-6677-8899-aabbccddeeff0").is_err());
        assert!(Uuid::parse(b"00112233+4455-6677-8899-aabbccddeeff").is_err());
        assert!(Uuid::parse(b"0011223g-4455-6677-8899-aabbccddeeff").is_err());
        assert!(Uuid::parse(b"001122334-455-6677-8899-aabbccddeeff").is_err());
        assert!(Uuid::parse(b"").is_err());
    }

    #[test]
    fn create_accepts_one_trailing_newline_only() -> Result {
        let plain = Uuid::parse_create(TEXT)?;
        let mut line = [0u8; UUID_STRING_LEN + 1];
        line[..UUID_STRING_LEN].copy_from_slice(TEXT);
        line[UUID_STRING_LEN] = b'\n';
        assert!(Uuid::parse_create(&line)? == plain);
        line[UUID_STRING_LEN] = b' ';
        assert!(Uuid::parse_create(&line).is_err());
        line[UUID_STRING_LEN] = b'x';
        assert!(Uuid::parse_create(&line).is_err());
        let mut two_newlines = [b'\n'; UUID_STRING_LEN + 2];
        two_newlines[..UUID_STRING_LEN].copy_from_slice(TEXT);
        assert!(Uuid::parse_create(&two_newlines).is_err());
        Ok(())
    }

    #[test]
    fn order_is_bytewise() -> Result {
        let low = Uuid::parse(b"00000000-0000-0000-0000-000000000001")?;
        let high = Uuid::parse(b"00000000-0000-0000-0000-000000000002")?;
        assert!(low < high);
        Ok(())
    }
}
