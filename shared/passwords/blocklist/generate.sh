#!/usr/bin/env bash
# Regenerates blocklist.txt.gz and the two licence files beside it from the
# exact package versions named below. Needs npm, pip and go; reaches only the
# npm registry and PyPI. Run from anywhere:
#
#   bash shared/passwords/blocklist/generate.sh
#
# The SHA-256 sums pin the source files, so a changed upstream artifact stops
# the run instead of changing the list silently. After a run, `git diff
# --stat` shows whether the list changed; the package tests check its form.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

zxcvbn_pkg='@zxcvbn-ts/language-common@4.1.3'
zxcvbn_sum='f422773d94d630f27e08b26d7017e847bb1feb2a84809340e9c0b0c47b33e3f1'
django_pkg='django==5.2.19'
django_sum='3c1baed62596de36860824eb3f436d5932d37ca8b06e59df78f5a44ec175afe4'

cd "$work"
npm pack --silent "$zxcvbn_pkg" >/dev/null
tar xzf zxcvbn-ts-language-common-4.1.3.tgz package/src/passwords.json package/LICENSE.txt

# The wheel is pure Python; name a Python version so that the local
# interpreter's version does not matter.
pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 -d . "$django_pkg"
unzip -q -o django-5.2.19-py3-none-any.whl \
  'django/contrib/auth/common-passwords.txt.gz' 'django-5.2.19.dist-info/licenses/LICENSE'

sha256sum -c - <<EOF
$zxcvbn_sum  package/src/passwords.json
$django_sum  django/contrib/auth/common-passwords.txt.gz
EOF

cd "$here"
go run gen.go \
  -zxcvbn "$work/package/src/passwords.json" \
  -django "$work/django/contrib/auth/common-passwords.txt.gz" \
  -out blocklist.txt.gz
cp "$work/package/LICENSE.txt" LICENSE.zxcvbn-ts.txt
cp "$work/django-5.2.19.dist-info/licenses/LICENSE" LICENSE.django.txt
