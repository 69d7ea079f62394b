#include "boot.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "util.h"

/* <linux/fs.h>, which musl's headers do not include. */
#ifndef BLKFLSBUF
#define BLKFLSBUF _IO(0x12, 97)
#endif
#define RAMFS_MAGIC 0x858458f6
#define TMPFS_MAGIC 0x01021994
/* virtio-blk probes before init runs, but give a slow device node a moment anyway. */
#define DEVICE_WAIT_MS 5000
/* Large enough for efficient reads and writes, small enough to be an easy kernel allocation. */
#define VOLUME_OPTIONS "trans=virtio,version=9p2000.L,msize=131072,cache=mmap"

struct mount_spec {
  const char *source;
  const char *target;
  const char *type;
  unsigned long flags;
  const char *data;
};

/* Mounted first: once it is there, init has a console to log to. */
static const struct mount_spec dev_filesystem = {"devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755"};

/* /dev/pts and /dev/shm live under /dev, so they move into the new root together with it. */
static const struct mount_spec kernel_filesystems[] = {
    {"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
    {"devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"},
    {"shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777"},
};

static const char *const moved_filesystems[] = {"/dev", "/proc", "/sys"};

static int failed(char *error, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

static int failed(char *error, size_t size, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(error, size, format, args);
  va_end(args);
  return -1;
}

static int mount_one(const struct mount_spec *spec) {
  if (mkdir(spec->target, 0755) != 0 && errno != EEXIST) return -1;
  return mount(spec->source, spec->target, spec->type, spec->flags, spec->data);
}

/* The kernel leaves fds 0-2 closed when the initramfs has no /dev/console; fill them. */
static void open_console_stdio(void) {
  if (fcntl(STDERR_FILENO, F_GETFD) >= 0) return;
  int fd = open("/dev/console", O_RDWR | O_NOCTTY);
  if (fd < 0) fd = open("/dev/null", O_RDWR);
  while (fd >= 0 && fd < STDERR_FILENO) fd = dup(fd);
}

int boot_mount_kernel_filesystems(void) {
  int result = mount_one(&dev_filesystem);
  int dev_error = errno;
  open_console_stdio();
  if (result != 0) log_msg("mount /dev: %s", strerror(dev_error));
  for (size_t i = 0; i < sizeof kernel_filesystems / sizeof *kernel_filesystems; i++) {
    if (mount_one(&kernel_filesystems[i]) == 0) continue;
    result = -1;
    log_msg("mount %s: %m", kernel_filesystems[i].target);
  }
  return result;
}

static void set_value(char *out, size_t size, const char *value) { snprintf(out, size, "%s", value); }

static void apply_parameter(struct boot_config *config, const char *parameter) {
  const char *value = strchr(parameter, '=');
  if (!value) return;
  size_t key_length = (size_t)(value++ - parameter);
  struct {
    const char *key;
    char *out;
    size_t size;
  } keys[] = {
      {"a3s.rootfs", config->rootfs, sizeof config->rootfs},
      {"a3s.upper", config->upper, sizeof config->upper},
      {"a3s.volumes", config->volumes, sizeof config->volumes},
      {"a3s.port", config->port, sizeof config->port},
  };
  for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
    if (strlen(keys[i].key) == key_length && strncmp(parameter, keys[i].key, key_length) == 0)
      set_value(keys[i].out, keys[i].size, value);
  if (key_length == strlen("a3s.defer") && strncmp(parameter, "a3s.defer", key_length) == 0)
    config->defer = strcmp(value, "1") == 0;
}

/* Splits the command line at spaces outside double quotes, dropping the quotes, as the kernel does. */
static void parse_cmdline(struct boot_config *config, const char *cmdline) {
  char parameter[4096];
  const char *cursor = cmdline;
  while (*cursor) {
    while (*cursor == ' ' || *cursor == '\n') cursor++;
    size_t length = 0;
    bool quoted = false;
    for (; *cursor && (quoted || (*cursor != ' ' && *cursor != '\n')); cursor++) {
      if (*cursor == '"') quoted = !quoted;
      else if (length < sizeof parameter - 1) parameter[length++] = *cursor;
    }
    parameter[length] = '\0';
    if (length > 0) apply_parameter(config, parameter);
  }
}

void boot_read_config(struct boot_config *config) {
  *config = (struct boot_config){0};
  set_value(config->upper, sizeof config->upper, "tmpfs");
  set_value(config->port, sizeof config->port, "a3s.0");
  char cmdline[8192];
  int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
  ssize_t length = fd >= 0 ? read(fd, cmdline, sizeof cmdline - 1) : -1;
  if (fd >= 0) close(fd);
  if (length < 0) {
    log_msg("read /proc/cmdline: %m");
    return;
  }
  cmdline[length] = '\0';
  parse_cmdline(config, cmdline);
}

static void wait_for_device(const char *device) {
  for (int waited = 0; access(device, F_OK) != 0 && waited < DEVICE_WAIT_MS; waited += 5) usleep(5000);
}

int boot_mount_lower(const struct boot_config *config, char *error, size_t size) {
  static const char *const types[] = {"erofs", "ext4", "squashfs"};
  const char *device = config->rootfs;
  if (!device[0]) return failed(error, size, "no a3s.rootfs= on the kernel command line");
  wait_for_device(device);
  mkdir("/lower", 0755);
  for (size_t i = 0; i < sizeof types / sizeof *types; i++)
    if (mount(device, "/lower", types[i], MS_RDONLY, NULL) == 0) return 0;
  return failed(error, size, "mount %s (erofs, ext4 or squashfs): %s", device, strerror(errno));
}

/*
 * A guest restored from a snapshot probed the device at boot, when another disk stood behind it: the
 * partition scan left that disk's first blocks in the page cache. They are dropped before mounting.
 */
static void drop_cached_blocks(const char *device) {
  int fd = open(device, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ioctl(fd, BLKFLSBUF, 0) != 0) log_msg("flush the cache of %s: %m", device);
  if (fd >= 0) close(fd);
}

/* The upper layer: a tmpfs (changes vanish with the VM) or a device with an ext4 filesystem. */
static int mount_upper(const char *upper, char *error, size_t size) {
  mkdir("/upper", 0755);
  if (strcmp(upper, "tmpfs") == 0) {
    if (mount("tmpfs", "/upper", "tmpfs", 0, "mode=0755") != 0)
      return failed(error, size, "mount tmpfs on /upper: %s", strerror(errno));
  } else {
    wait_for_device(upper);
    drop_cached_blocks(upper);
    /* noinit_itable: the host makes the disk sparse; zeroing inode tables would only fill it. */
    if (mount(upper, "/upper", "ext4", 0, "noinit_itable") != 0)
      return failed(error, size, "mount %s (ext4) on /upper: %s", upper, strerror(errno));
  }
  if ((mkdir("/upper/upper", 0755) != 0 && errno != EEXIST) || (mkdir("/upper/work", 0755) != 0 && errno != EEXIST))
    return failed(error, size, "mkdir in /upper: %s", strerror(errno));
  return 0;
}

static int mount_overlay(char *error, size_t size) {
  mkdir("/newroot", 0755);
  if (mount("overlay", "/newroot", "overlay", 0, "lowerdir=/lower,upperdir=/upper/upper,workdir=/upper/work") != 0)
    return failed(error, size, "mount overlay on /newroot: %s", strerror(errno));
  return 0;
}

static int move_kernel_filesystems(char *error, size_t size) {
  for (size_t i = 0; i < sizeof moved_filesystems / sizeof *moved_filesystems; i++) {
    char target[64];
    snprintf(target, sizeof target, "/newroot%s", moved_filesystems[i]);
    mkdir(target, 0755);
    if (mount(moved_filesystems[i], target, NULL, MS_MOVE, NULL) != 0)
      return failed(error, size, "move %s into the new root: %s", moved_filesystems[i], strerror(errno));
  }
  return 0;
}

/* Deletes a directory's contents that are on `device`, leaving mount points (and what is under them). */
static void remove_tree(int dir_fd, dev_t device) {
  DIR *dir = fdopendir(dir_fd);
  if (!dir) {
    close(dir_fd);
    return;
  }
  for (struct dirent *entry; (entry = readdir(dir));) {
    const char *name = entry->d_name;
    struct stat st;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || st.st_dev != device) continue;
    if (S_ISDIR(st.st_mode)) {
      int child = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child >= 0) remove_tree(child, device);
    }
    unlinkat(dir_fd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
  }
  closedir(dir);
}

/*
 * The initramfs cannot be unmounted or pivoted away from (switch_root(8)), so its files are
 * deleted to give their memory back, the new root is moved over "/", and init chroots into it.
 */
static int enter_new_root(char *error, size_t size) {
  if (chdir("/newroot") != 0) return failed(error, size, "chdir /newroot: %s", strerror(errno));
  struct statfs fs;
  struct stat root;
  if (statfs("/", &fs) == 0 && (fs.f_type == RAMFS_MAGIC || fs.f_type == TMPFS_MAGIC) && stat("/", &root) == 0) {
    int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) remove_tree(fd, root.st_dev);
  }
  if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) return failed(error, size, "move the new root to /: %s", strerror(errno));
  if (chroot(".") != 0 || chdir("/") != 0) return failed(error, size, "chroot into the new root: %s", strerror(errno));
  return 0;
}

/* Links Docker provides in /dev; bash's process substitution needs /dev/fd. */
static void link_dev_fd(void) {
  static const char *const links[][2] = {
      {"/proc/self/fd", "/dev/fd"},
      {"/proc/self/fd/0", "/dev/stdin"},
      {"/proc/self/fd/1", "/dev/stdout"},
      {"/proc/self/fd/2", "/dev/stderr"},
  };
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) symlink(links[i][0], links[i][1]);
}

static int mount_run(char *error, size_t size) {
  mkdir("/run", 0755);
  if (mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
    return failed(error, size, "mount tmpfs on /run: %s", strerror(errno));
  return 0;
}

/* One "tag:/path:ro|rw" entry of a3s.volumes; the mode may be left out (rw). */
static int parse_volume(char *entry, struct volume *volume, char *error, size_t size) {
  char *path = strchr(entry, ':');
  if (!path || path[1] != '/') return failed(error, size, "a3s.volumes: bad entry %s (want tag:/path:ro|rw)", entry);
  *path++ = '\0';
  char *mode = strchr(path, ':');
  if (mode) *mode++ = '\0';
  if (mode && strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
    return failed(error, size, "a3s.volumes: volume %s has mode %s (want ro or rw)", entry, mode);
  if (strlen(entry) >= sizeof volume->tag || strlen(path) >= sizeof volume->path)
    return failed(error, size, "a3s.volumes: volume %s: tag or path too long", entry);
  snprintf(volume->tag, sizeof volume->tag, "%s", entry);
  snprintf(volume->path, sizeof volume->path, "%s", path);
  volume->read_only = mode && strcmp(mode, "ro") == 0;
  return 0;
}

int boot_plan_from_config(const struct boot_config *config, struct root_plan *plan, char *error, size_t size) {
  *plan = (struct root_plan){0};
  snprintf(plan->upper, sizeof plan->upper, "%s", config->upper);
  char list[sizeof config->volumes];
  snprintf(list, sizeof list, "%s", config->volumes);
  char *saved;
  for (char *entry = strtok_r(list, ",", &saved); entry; entry = strtok_r(NULL, ",", &saved)) {
    if (plan->volume_count == MAX_VOLUMES) return failed(error, size, "a3s.volumes: more than %d volumes", MAX_VOLUMES);
    if (parse_volume(entry, &plan->volumes[plan->volume_count++], error, size) != 0) return -1;
  }
  return 0;
}

static int mount_volume(const struct volume *volume, char *error, size_t size) {
  /* Created after the chroot, so symbolic links in the image resolve inside the box. */
  if (mkdir_p(volume->path, 0755) != 0) return failed(error, size, "mkdir %s: %s", volume->path, strerror(errno));
  if (mount(volume->tag, volume->path, "9p", volume->read_only ? MS_RDONLY : 0, VOLUME_OPTIONS) != 0)
    return failed(error, size, "mount volume %s on %s: %s", volume->tag, volume->path, strerror(errno));
  return 0;
}

/* Docker boxes always have a working loopback; a box without a network should too. */
static void bring_up_loopback(void) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq request = {0};
  snprintf(request.ifr_name, sizeof request.ifr_name, "lo");
  if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &request) != 0) {
    log_msg("loopback: %m");
  } else {
    request.ifr_flags |= IFF_UP;
    if (ioctl(fd, SIOCSIFFLAGS, &request) != 0) log_msg("loopback up: %m");
  }
  if (fd >= 0) close(fd);
}

int boot_assemble_root(const struct root_plan *plan, char *error, size_t error_size) {
  if (mount_upper(plan->upper, error, error_size) != 0 || mount_overlay(error, error_size) != 0 ||
      move_kernel_filesystems(error, error_size) != 0 || enter_new_root(error, error_size) != 0 ||
      mount_run(error, error_size) != 0)
    return -1;
  for (size_t i = 0; i < plan->volume_count; i++)
    if (mount_volume(&plan->volumes[i], error, error_size) != 0) return -1;
  link_dev_fd();
  bring_up_loopback();
  return 0;
}
