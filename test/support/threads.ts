import { readdirSync, readFileSync } from "node:fs";

/** A thread's nice value (Linux): in /proc/self/task/<tid>/stat, after "(name) " come fields 3 to 52; nice is 19. */
export function threadNice(tid: number | string): number {
  return Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1].split(" ")[16]);
}

/**
 * The nice value of every thread of this process. A thread may end between the listing and the reading of its
 * stat (a pool worker terminated at a deadline, say); it is left out.
 */
export function threadNices(): number[] {
  return readdirSync("/proc/self/task").flatMap((tid) => {
    try {
      return [threadNice(tid)];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw e;
    }
  });
}
