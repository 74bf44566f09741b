# Runs seed 001's verify_webhook (shared/seeds/001_*.md, "Webhook İmza Doğrulama"), copied
# verbatim between the markers below, on a body read as text the way the seed's Flask
# receiver reads it (request.get_data(as_text=True)).
#
# Usage: python3 verify_seed001.py BODY_FILE SIGNATURE SECRET_KEY
# Exit 0 if the signature is valid, 1 if not, 2 on a usage error.
import sys

# --- seed 001, verbatim ---
import hmac
import hashlib

def verify_webhook(payload_string, signature, secret_key):
    expected_signature = hmac.new(
        secret_key.encode('utf-8'),
        payload_string.encode('utf-8'),
        hashlib.sha256
    ).hexdigest()
    
    return hmac.compare_digest(signature, expected_signature)
# --- end of seed 001 ---


def main(argv):
    if len(argv) != 4:
        print("usage: verify_seed001.py BODY_FILE SIGNATURE SECRET_KEY", file=sys.stderr)
        return 2
    # newline='' keeps the bytes as sent: no newline translation.
    with open(argv[1], encoding="utf-8", newline="") as f:
        request_body = f.read()
    signature = argv[2]
    secret = argv[3]
    return 0 if verify_webhook(request_body, signature, secret) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
