// What host access describing an image needs beyond activeTab (which a right-click grants for the
// page's own origin). Pure, so the e2e spec checks it without a browser.

/** The origin pattern an image needs beyond activeTab, or null (data:/blob: URLs, the page's own origin). */
export function extraOriginFor(imageUrl: string, pageUrl: string | undefined): string | null {
  let image: URL;
  try {
    image = new URL(imageUrl);
  } catch {
    return null;
  }
  if (image.protocol !== 'http:' && image.protocol !== 'https:') return null;
  try {
    if (pageUrl && new URL(pageUrl).origin === image.origin) return null;
  } catch {
    // no page URL: ask for the image's origin
  }
  return `${image.origin}/*`;
}
