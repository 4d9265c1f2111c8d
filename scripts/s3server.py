"""moto's S3 server with signatures checked the way AWS checks them.

moto verifies SigV4 by re-signing the URL it was given, but that URL comes from
werkzeug with the query string decoded and re-quoted with `/` left bare, so a
correctly signed `prefix=a%2Fb` (AWS, every SDK) is refused; boto3 itself fails
against it. AWS decodes every query name and value and encodes them again with
only `-_.~` bare; this patch makes moto's check do the same. Nothing else of
moto changes. Used by scripts/s3server.sh.
"""
import sys
from urllib.parse import quote, unquote

from botocore.auth import SigV4Auth


def canonical_query(self, parts):
    if not parts.query:
        return ""
    pairs = []
    for pair in parts.query.split("&"):
        key, _, value = pair.partition("=")
        pairs.append((quote(unquote(key), safe="-_.~"), quote(unquote(value), safe="-_.~")))
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


SigV4Auth._canonical_query_string_url = canonical_query

from moto.server import main  # noqa: E402  (after the patch)

main(sys.argv[1:])
