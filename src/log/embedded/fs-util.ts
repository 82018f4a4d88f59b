import { writeFileAtomic as writeAtomic } from '../../common/index.ts';
import { ioError } from '../errors.ts';

export { syncDir, hasErrno } from '../../common/index.ts';

/** {@link writeAtomic} with the log's `io_error` on failure. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeAtomic(path, data);
  } catch (error) {
    throw ioError(`could not write ${path}`, error);
  }
}
