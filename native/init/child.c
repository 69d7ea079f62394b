#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "protocol.h"
#include "util.h"

/* Docker's default PATH, searched when the process env has none. */
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

__attribute__((noreturn)) static void fail(int status_fd, int code, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

__attribute__((noreturn)) static void fail(int status_fd, int code, const char *format, ...) {
  struct start_failure failure = {.code = code};
  va_list args;
  va_start(args, format);
  vsnprintf(failure.message, sizeof failure.message, format, args);
  va_end(args);
  /* Smaller than PIPE_BUF, so the parent reads the record whole. */
  (void)!write(status_fd, &failure, sizeof failure);
  _exit(code);
}

/* Init blocks the signals it reads through signalfd and ignores SIGPIPE; the box must not inherit that. */
static void reset_signals(void) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
}

static void connect_terminal(const char *terminal, int status_fd) {
  int fd = open(terminal, O_RDWR);
  if (fd < 0) fail(status_fd, CODE_START_FAILED, "open %s: %s", terminal, strerror(errno));
  if (ioctl(fd, TIOCSCTTY, 0) != 0) fail(status_fd, CODE_START_FAILED, "TIOCSCTTY: %s", strerror(errno));
  for (int target = 0; target <= 2; target++) dup2(fd, target);
  if (fd > 2) close(fd);
}

static void connect_pipes(const struct child_stdio *stdio, int status_fd) {
  int in = stdio->in >= 0 ? stdio->in : open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (in < 0 || dup2(in, 0) < 0 || dup2(stdio->out, 1) < 0 || dup2(stdio->err, 2) < 0)
    fail(status_fd, CODE_START_FAILED, "stdio: %s", strerror(errno));
}

static void switch_user(const struct process_spec *spec, int status_fd) {
  if (setgroups(spec->group_count, spec->groups) != 0)
    fail(status_fd, CODE_START_FAILED, "setgroups: %s", strerror(errno));
  if (setgid(spec->gid) != 0) fail(status_fd, CODE_START_FAILED, "setgid %u: %s", spec->gid, strerror(errno));
  if (setuid(spec->uid) != 0) fail(status_fd, CODE_START_FAILED, "setuid %u: %s", spec->uid, strerror(errno));
}

static const char *env_path(char *const *env) {
  for (; *env; env++)
    if (strncmp(*env, "PATH=", 5) == 0) return *env + 5;
  return DEFAULT_PATH;
}

/*
 * execvpe searches the PATH of init, not of the new environment, so the search is done here,
 * with execvp's rules: keep looking after ENOENT and friends, report EACCES if any candidate
 * was not executable. Unlike execvp, no /bin/sh fallback for ENOEXEC (neither does Docker).
 */
static int exec_search(const char *file, char *const *args, char *const *env) {
  if (strchr(file, '/')) {
    execve(file, args, env);
    return errno;
  }
  bool denied = false;
  const char *path = env_path(env);
  for (const char *dir = path;; dir = strchr(dir, ':') + 1) {
    size_t dir_length = strcspn(dir, ":");
    char candidate[4096];
    if (dir_length + strlen(file) + 2 <= sizeof candidate) {
      snprintf(candidate, sizeof candidate, "%.*s/%s", (int)dir_length, dir_length ? dir : ".", file);
      execve(candidate, args, env);
      if (errno == EACCES) denied = true;
      else if (errno != ENOENT && errno != ENOTDIR && errno != ESTALE && errno != ENAMETOOLONG) return errno;
    }
    if (!dir[dir_length]) break;
  }
  return denied ? EACCES : ENOENT;
}

__attribute__((noreturn)) static void report_exec_error(const char *file, int error, int status_fd) {
  bool searched = !strchr(file, '/');
  if (error == ENOENT && searched) fail(status_fd, CODE_NOT_FOUND, "%s: executable file not found in $PATH", file);
  if (error == ENOENT || error == ENOTDIR) fail(status_fd, CODE_NOT_FOUND, "%s: %s", file, strerror(error));
  fail(status_fd, CODE_NOT_EXECUTABLE, "%s: %s", file, strerror(error));
}

void child_run(const struct process_spec *spec, const struct child_stdio *stdio, int status_fd) {
  reset_signals();
  setsid();
  if (stdio->terminal) connect_terminal(stdio->terminal, status_fd);
  else connect_pipes(stdio, status_fd);
  /* Like Docker, a missing working directory is created (as root, before the switch of user). */
  mkdir_p(spec->cwd, 0755);
  switch_user(spec, status_fd);
  if (chdir(spec->cwd) != 0) fail(status_fd, CODE_START_FAILED, "chdir %s: %s", spec->cwd, strerror(errno));
  int error = exec_search(spec->args[0], spec->args, spec->env);
  report_exec_error(spec->args[0], error, status_fd);
}
