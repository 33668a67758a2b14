//! libmemcached's default key hash (`MEMCACHED_HASH_DEFAULT`, libhashkit/one_at_a_time.cc).

/// Bob Jenkins' one-at-a-time hash exactly as libhashkit computes it: each byte is read
/// through a (signed) `char`, so bytes from 0x80 up are sign-extended before they are added.
/// Keys memaslap generates are printable ASCII, where this makes no difference; arbitrary
/// bytes still land where libmemcached puts them.
#[must_use]
pub fn one_at_a_time(key: &[u8]) -> u32 {
    let mut value: u32 = 0;
    for &byte in key {
        // (uint32_t) *ptr with `const char *ptr`: sign extension.
        value = value.wrapping_add(i32::from(byte as i8) as u32);
        value = value.wrapping_add(value << 10);
        value ^= value >> 6;
    }
    value = value.wrapping_add(value << 3);
    value ^= value >> 11;
    value.wrapping_add(value << 15)
}
