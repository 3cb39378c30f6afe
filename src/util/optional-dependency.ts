import { InvalidArgumentError } from "../core/errors.js";

/**
 * Imports a module that needs an optional peer dependency. When that package is not installed,
 * throws an `InvalidArgumentError` that says which option needs it and how to install it.
 */
export async function importOptional<T>(
  load: () => Promise<T>,
  dependency: { name: string; range: string; neededBy: string },
): Promise<T> {
  try {
    return await load();
  } catch (err) {
    const missing =
      (err as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" &&
      (err as Error).message.includes(`'${dependency.name}'`);
    if (!missing) throw err;
    const error = new InvalidArgumentError(
      `${dependency.neededBy} needs the package "${dependency.name}", which is not installed: npm install ${dependency.name}@"${dependency.range}"`,
    );
    error.cause = err;
    throw error;
  }
}
