use super::*;
use crate::logic::algs::{by_name, AlgKind};

#[test]
fn aead_names_wrap_the_iv_generator() {
    let gcm = by_name(AlgKind::Encrypt, "aes-gcm-16").unwrap();
    let s = compose(gcm, None, &[7; 20], &[], false).unwrap();
    assert_eq!(s.name(), "seqiv(rfc4106(gcm(aes)))");
    assert_eq!(s.name_nul().last(), Some(&0));
    assert_eq!(&s.key[..], &[7; 20]);
}

#[test]
fn authenc_key_blob_is_rtattr_param_then_keys() {
    let cbc = by_name(AlgKind::Encrypt, "3des-cbc").unwrap();
    let md5 = by_name(AlgKind::Auth, "hmac-md5").unwrap();
    let s = compose(cbc, Some(md5), &[1; 24], &[2; 16], false).unwrap();
    assert_eq!(s.name(), "echainiv(authenc(hmac(md5),cbc(des3_ede)))");
    assert_eq!(&s.key[..2], &8u16.to_ne_bytes());
    assert_eq!(&s.key[2..4], &1u16.to_ne_bytes());
    assert_eq!(&s.key[4..8], &24u32.to_be_bytes());
    assert_eq!(&s.key[8..24], &[2; 16]);
    assert_eq!(&s.key[24..], &[1; 24]);
}

#[test]
fn null_cipher_and_missing_auth() {
    let null = by_name(AlgKind::Encrypt, "null").unwrap();
    let sha = by_name(AlgKind::Auth, "hmac-sha256").unwrap();
    assert_eq!(
        compose(null, Some(sha), &[], &[3; 32], false)
            .unwrap()
            .name(),
        "authenc(hmac(sha256),ecb(cipher_null))"
    );
    let cbc = by_name(AlgKind::Encrypt, "aes-cbc").unwrap();
    assert_eq!(
        compose(cbc, None, &[1; 16], &[], false).unwrap().name(),
        "echainiv(authenc(digest_null,cbc(aes)))"
    );
}

#[test]
fn aead_with_auth_is_refused() {
    let gcm = by_name(AlgKind::Encrypt, "aes-gcm-16").unwrap();
    let sha = by_name(AlgKind::Auth, "hmac-sha1").unwrap();
    assert_eq!(
        compose(gcm, Some(sha), &[7; 20], &[1; 20], false).err(),
        Some(SuiteError::Unsupported)
    );
}

#[test]
fn esn_takes_authencesn_and_leaves_aeads_alone() {
    let cbc = by_name(AlgKind::Encrypt, "aes-cbc").unwrap();
    let sha = by_name(AlgKind::Auth, "hmac-sha1").unwrap();
    let s = compose(cbc, Some(sha), &[1; 16], &[2; 20], true).unwrap();
    assert_eq!(s.name(), "echainiv(authencesn(hmac(sha1),cbc(aes)))");
    // Same key blob as authenc.
    let plain = compose(cbc, Some(sha), &[1; 16], &[2; 20], false).unwrap();
    assert_eq!(&s.key[..], &plain.key[..]);
    let gcm = by_name(AlgKind::Encrypt, "aes-gcm-16").unwrap();
    assert_eq!(
        compose(gcm, None, &[7; 20], &[], true).unwrap().name(),
        "seqiv(rfc4106(gcm(aes)))"
    );
}
