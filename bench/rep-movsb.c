/* How fast `rep movsb` copies 128 KiB for a given distance between destination and
 * source (modulo 4096): the instruction the kernel copies a writev's bytes into socket
 * buffers with on CPUs with FSRM. See BENCHMARKS.md, "Why the copy costs more".
 *
 *   cc -O2 -o /tmp/rep-movsb bench/rep-movsb.c && /tmp/rep-movsb
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
static void movsb(void *d, const void *s, size_t n){ __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory"); }
int main(){
  size_t n = 128*1024; char *src = aligned_alloc(4096, n+8192), *dst = aligned_alloc(4096, 64*1024*1024);
  memset(src, 1, n+8192); memset(dst, 0, 64*1024*1024);
  int diffs[] = {16, 80, 144, 528, 1040, 2064, 4112, 4080, 31, 33, 63, 64, 65, 96};
  for (int di=0; di<14; di++) {
    struct timespec a,b; size_t pos=0; clock_gettime(CLOCK_MONOTONIC,&a);
    for (int r=0;r<2000;r++){ movsb(dst+pos+diffs[di], src, n); pos += 128*1024+8192; if (pos > 60*1024*1024) pos = 0; }
    clock_gettime(CLOCK_MONOTONIC,&b); double us=((b.tv_sec-a.tv_sec)*1e9+(b.tv_nsec-a.tv_nsec))/2000/1000.0;
    printf("dst-src=%4d %5.1fus\n", diffs[di], us); }
}
