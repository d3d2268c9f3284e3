# free_port [FIRST]: a TCP port on 127.0.0.1 nobody listens on.
free_port() {
  local p="${1:-20000}"
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
