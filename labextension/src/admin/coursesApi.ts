/**
 * Calls of the courses API (`admin/courses`, `admin/courses/<group>`,
 * `admin/courses/<group>/members`), and how the admin panel's form saves a
 * course with them.
 */

import { requestAPI } from '../request';

/** A course as the service returns it. */
export interface ICourse {
  group: string;
  instructors: string[];
  students: string[];
  /** The shared folder on the lab's machine. */
  folder: string;
  /** `course-<group>`: the folder's link in each member's home. */
  link_name: string;
  repository: string | null;
  branch: string | null;
  /** The nbgitpuller link students click, when there is a repository. */
  material_link: string | null;
  created: string;
  updated: string;
  updated_by: string;
  /** Hub users the request made (names the course had that did not exist). */
  created_users: string[];
}

/** What the courses section calls; tests replace it. */
export interface ICoursesApi {
  list: () => Promise<ICourse[]>;
  put: (
    group: string,
    body: {
      instructors: string[];
      students: string[];
      repository?: string | null;
      branch?: string | null;
    }
  ) => Promise<ICourse>;
  /** Add the members of a CSV roster (`user,role` lines). */
  addRoster: (group: string, csv: string) => Promise<ICourse>;
}

function courseEndpoint(group: string): string {
  return `admin/courses/${encodeURIComponent(group)}`;
}

/** The real API. */
export const defaultCoursesApi: ICoursesApi = {
  list: () => requestAPI<ICourse[]>('admin/courses'),
  put: (group, body) =>
    requestAPI<ICourse>(courseEndpoint(group), {
      method: 'PUT',
      body: JSON.stringify(body)
    }),
  addRoster: (group, csv) =>
    requestAPI<ICourse>(`${courseEndpoint(group)}/members`, {
      method: 'POST',
      body: csv,
      headers: { 'Content-Type': 'text/csv' }
    })
};

/** What the form asks for. */
export interface ICourseForm {
  group: string;
  /** CSV roster; empty: no members added. */
  roster: string;
  /** Empty: keep the course's (none for a new course). */
  repository: string;
  branch: string;
}

/** The course after saving, with every hub user the saves made. */
export interface ISaved {
  course: ICourse;
  createdUsers: string[];
}

/**
 * Create the course if it is new (no members yet), set its repository if
 * one is given, then add the roster's members. An existing course keeps its
 * members: the roster adds to them.
 */
export async function saveCourse(
  api: ICoursesApi,
  existing: ICourse | undefined,
  form: ICourseForm
): Promise<ISaved> {
  const repository = form.repository.trim() || existing?.repository || null;
  const branch = form.branch.trim() || existing?.branch || null;
  const created: string[] = [];
  let course = existing;
  if (!course || repository !== course.repository || branch !== course.branch) {
    course = await api.put(form.group, {
      instructors: course?.instructors ?? [],
      students: course?.students ?? [],
      repository,
      branch
    });
    created.push(...course.created_users);
  }
  if (form.roster.trim()) {
    course = await api.addRoster(form.group, form.roster);
    created.push(...course.created_users);
  }
  return { course, createdUsers: created };
}
