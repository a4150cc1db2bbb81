process JUNCTIONS_SPLIT {
    tag "${meta.id}"
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container 'ghcr.io/splamflow/splamflow:0.1.0'

    input:
    tuple val(meta), path(junctions)
    val(chunk_size)

    output:
    tuple val(meta), path("*.chunk_*.bed"), emit: chunks
    tuple val("${task.process}"), val('coreutils'), eval("split --version | sed -n '1s/^.* //p'"), emit: versions_coreutils, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def prefix = task.ext.prefix ?: "${meta.id}"
    // Chunk k (0-based) holds input lines k*chunk_size+1 .. (k+1)*chunk_size and is named with k as a
    // fixed-width decimal (chunk_000000, chunk_000001, ...). An empty input still yields one (empty)
    // chunk so that every sample reaches the merge.
    """
    split \\
        --lines=${chunk_size} \\
        --numeric-suffixes=0 \\
        --suffix-length=6 \\
        --additional-suffix=.bed \\
        ${junctions} \\
        ${prefix}.chunk_
    if [ ! -e ${prefix}.chunk_000000.bed ]; then
        : > ${prefix}.chunk_000000.bed
    fi
    """

    stub:
    def prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.chunk_000000.bed
    """
}
