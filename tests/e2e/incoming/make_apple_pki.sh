#!/usr/bin/env bash
# Builds throwaway PKIs shaped like Apple's App Store signing chain with the openssl CLI,
# for the incoming end-to-end tests: root → intermediate (OID 1.2.840.113635.100.6.2.1) →
# leaf (OID 1.2.840.113635.100.6.11.1), EC keys, extensions that pass OpenSSL's
# X509_STRICT (critical basicConstraints, keyUsage, subject/authority key identifiers).
#
# Usage: make_apple_pki.sh OUTDIR
# Writes NAME.pem (certificate) and NAME.key (PKCS#8 private key) for:
#   root, intermediate, leaf   the good chain (P-256), valid 2020-01-01 .. 2049-12-31
#   leaf_no_oid                signed by intermediate, without the leaf marker OID
#   leaf_expired               signed by intermediate, valid 2020-01-01 .. 2021-01-01 only
#   leaf_p384                  signed by intermediate, a P-384 key (for an ES384 JWS)
#   other_root, other_intermediate, other_leaf   a second, equally well-formed chain
set -euo pipefail

out=${1:?usage: make_apple_pki.sh OUTDIR}
mkdir -p "$out"
cd "$out"

cat > openssl.cnf <<'CNF'
[ca]
default_ca = test_ca

[test_ca]
dir = .
database = ./index.txt
new_certs_dir = ./issued
serial = ./serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no

[policy_any]
commonName = supplied
organizationName = optional

[req]
distinguished_name = req_dn
prompt = no

[req_dn]
CN = unused

[root_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[intermediate_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.2.1 = ASN1:NULL

[leaf_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
1.2.840.113635.100.6.11.1 = ASN1:NULL

[leaf_no_oid_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
CNF
mkdir -p issued
: > index.txt
echo 1000 > serial

# issue NAME CURVE "CN" ISSUER|self EXTENSIONS START END
issue() {
  local name=$1 curve=$2 cn=$3 issuer=$4 ext=$5 start=$6 end=$7
  openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$curve" -pkeyopt ec_param_enc:named_curve \
    -out "$name.key" 2>/dev/null
  openssl req -new -config openssl.cnf -key "$name.key" -subj "/CN=$cn/O=ulak tests" -out "$name.csr"
  local signer=()
  if [[ $issuer == self ]]; then
    signer=(-selfsign -keyfile "$name.key")
  else
    signer=(-cert "$issuer.pem" -keyfile "$issuer.key")
  fi
  openssl ca -batch -notext -config openssl.cnf "${signer[@]}" -extensions "$ext" \
    -startdate "$start" -enddate "$end" -in "$name.csr" -out "$name.pem" 2>/dev/null
  rm -f "$name.csr"
}

from=20200101000000Z
until=20491231235959Z
issue root prime256v1 "Test Root CA" self root_ext $from $until
issue intermediate prime256v1 "Test WWDR Intermediate" root intermediate_ext $from $until
issue leaf prime256v1 "Test App Store Signing" intermediate leaf_ext $from $until
issue leaf_no_oid prime256v1 "Test App Store Signing Without OID" intermediate leaf_no_oid_ext $from $until
issue leaf_expired prime256v1 "Test App Store Signing Expired" intermediate leaf_ext $from 20210101000000Z
issue leaf_p384 secp384r1 "Test App Store Signing P-384" intermediate leaf_ext $from $until
issue other_root prime256v1 "Other Root CA" self root_ext $from $until
issue other_intermediate prime256v1 "Other WWDR Intermediate" other_root intermediate_ext $from $until
issue other_leaf prime256v1 "Other App Store Signing" other_intermediate leaf_ext $from $until

for name in leaf leaf_no_oid leaf_expired leaf_p384; do
  openssl verify -x509_strict -CAfile root.pem -untrusted intermediate.pem "$name.pem" >/dev/null 2>&1 ||
    [[ $name == leaf_expired ]] || { echo "make_apple_pki: $name does not verify" >&2; exit 1; }
done
openssl verify -x509_strict -CAfile other_root.pem -untrusted other_intermediate.pem other_leaf.pem >/dev/null
