# Shared by tools/up and tools/test. Source it; it defines functions only.

CF_PACKAGES=(
  bazel-bootstrap bazel-rules-java bazel-rules-proto
  g++ libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev grpc-proto
  libgoogle-common-protos-java libabsl-dev libpqxx-dev libgtest-dev libgmock-dev
  postgresql ffmpeg unzip libcurl4-openssl-dev nlohmann-json3-dev libcpp-httplib-dev
  flite1-dev fonts-noto-cjk fonts-symbola libssl-dev
)
CF_PG_BIN=/usr/lib/postgresql/15/bin
# runuser and apt-get live in sbin, which minimal PATHs (cron, bazel test) leave out.
export PATH="$PATH:/usr/sbin:/sbin"

cf_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Installs the Debian packages that are missing (and only those).
cf_install_deps() {
  local missing=()
  for pkg in "${CF_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  cf_log "installing Debian packages: ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${missing[@]}"
}

# A TCP port nobody listens on, from the given start upwards.
cf_free_port() {
  local port=${1:-15432}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# Runs a command as the postgres user (PostgreSQL refuses to run as root).
cf_as_postgres() {
  if [ "$(id -un)" = postgres ]; then "$@"; return; fi
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; return; fi
  sudo -u postgres -- "$@"
}

# cf_pg_start DIR PORT [extra postgres -c options...]: initdb DIR/data when new, then start a
# private server listening on 127.0.0.1:PORT and a unix socket in DIR/socket.
cf_pg_start() {
  local dir=$1 port=$2
  shift 2
  mkdir -p "$dir/socket"
  chown postgres:postgres "$dir" "$dir/socket" 2>/dev/null || true
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    cf_as_postgres "$CF_PG_BIN/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  local opts="-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c max_connections=400"
  for extra in "$@"; do opts="$opts -c $extra"; done
  cf_as_postgres "$CF_PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -o "$opts" -w \
    -t 60 start >/dev/null || { tail -n 20 "$dir/postgres.log" >&2; return 1; }
}

cf_pg_stop() {
  local dir=$1
  [ -f "$dir/data/postmaster.pid" ] || return 0
  cf_as_postgres "$CF_PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
}
